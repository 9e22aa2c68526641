"""The notifications panel: a live SSE stream, newest first, over a ring buffer.

The list is a Line-API view (as Toolong's): items land in a bounded deque and the
frame flush only moves the scroll bookkeeping; `render_line` renders the few
visible rows on demand. Nothing is rendered for an item that scrolls out of the
ring buffer, so the cost per event stays flat on an endless stream.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.worker import Worker

from ..config import PanelConfig
from ..feeds.state import FeedState
from ..text import clean_line
from .emoji import split_tags
from .frames import FRAME_S
from .line_list import LineList
from .panel import FeedPanel
from .safe import safe_text
from .screens.detail import DetailScreen
from .timefmt import age, stamp

READ_STYLE = Style(dim=True)  # a notification marked read
SEARCH_LIMIT = 500  # results a search shows (the newest)
MAX_IN_FLIGHT = 50_000  # items waiting for the history store's commit before the stream waits too
LINE_CACHE_PAGES = 3  # rendered rows kept: three pages (the one in view and one either side)
DETAIL_EVERY_S = 0.25  # how often the "N received · rate" line is redrawn
PRIORITY_ICONS = {5: "‼", 4: "!", 3: "•", 2: "↓", 1: "·"}
PRIORITY_STYLES = {
    5: "notifications--p5",
    4: "notifications--p4",
    3: "notifications--time",
    2: "notifications--low",
    1: "notifications--low",
}


def priority_of(item: Any) -> int:
    """A notification's priority (validated by the feed); 3 for a plain event."""
    return getattr(item, "priority", 3)


def sent_time(item: Any, received: float) -> float:
    sent = getattr(item, "time", None)
    return float(sent) if isinstance(sent, (int, float)) and sent > 0 else received


class Entries:
    """The rows a panel keeps, oldest first: (item, when received) pairs, at most `maxlen`.

    Two ring buffers, not one of pairs: a pair per item was a tuple the garbage collector
    tracked (sixteen busy panels kept 16,000 of them for each collection to walk).
    """

    __slots__ = ("items", "times")

    def __init__(self, maxlen: int) -> None:
        self.items: deque[Any] = deque(maxlen=maxlen)
        self.times: deque[float] = deque(maxlen=maxlen)

    def add(self, batch: list[Any], now: float) -> None:
        self.items.extend(batch)
        self.times.extend([now] * len(batch))

    def extend(self, pairs: Iterable[tuple[Any, float]]) -> None:
        for item, received in pairs:
            self.items.append(item)
            self.times.append(received)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[Any, float]:
        return self.items[index], self.times[index]

    def __iter__(self) -> Iterator[tuple[Any, float]]:
        return zip(self.items, self.times)  # noqa: B905  (the two always hold as many)

    def __reversed__(self) -> Iterator[tuple[Any, float]]:
        return zip(reversed(self.items), reversed(self.times))  # noqa: B905


class NotificationView(LineList, can_focus=True):
    """The newest-first list of notifications and events."""

    can_pause = True
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/resume"),
        Binding("enter", "open_detail", "Detail"),
        Binding("home", "cursor_newest", "Newest", show=False),
        Binding("end", "cursor_oldest", "Oldest", show=False),
        # (out of the footer, which stays as it was: docs/history.md lists them)
        Binding("slash", "search", "Search history", show=False),
        Binding("r", "toggle_read", "Read/unread", show=False),
        Binding("R", "mark_all_read", "Mark all read", show=False),
    ]
    COMPONENT_CLASSES = {
        "notifications--cursor",
        "notifications--time",
        "notifications--tags",
        "notifications--title",
        "notifications--p5",
        "notifications--p4",
        "notifications--low",
        "notifications--event",
    }
    DEFAULT_CSS = """
    NotificationView {
        background: $surface;
        overflow-x: hidden;  /* rows are cut to the width: never a horizontal scrollbar */
        & > .notifications--cursor { background: $block-cursor-blurred-background; }
        &:focus > .notifications--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
        & > .notifications--time { color: $text-muted; }
        & > .notifications--tags { color: $text-accent; }
        & > .notifications--title { text-style: bold; }
        & > .notifications--p5 { color: $text-error; text-style: bold; }
        & > .notifications--p4 { color: $text-warning; text-style: bold; }
        & > .notifications--low { color: $text-muted; }
        & > .notifications--event { color: $text-secondary; }
    }
    """

    def __init__(self, config: PanelConfig) -> None:
        super().__init__(config)
        # (item, when received), oldest first; item number n (1-based) sits at n - first_seq
        self.entries = Entries(config.rows)
        self.received = 0  # items taken in since the panel opened: the newest item's number
        self.cursor_seq = 0  # the selected item's number (0: none: follow the newest)
        self._pinned_top = 0  # a pinned list's top_seq (see there)
        self.paused = False
        self._resume: asyncio.Event | None = None
        self._last_feed_state: FeedState | None = None
        self._shown_seq = 0  # newest item number already accounted for on screen
        self._urgent: Any = None  # the newest urgent item since the last frame
        self._urgent_count = 0  # and how many there were
        self._rate_window: deque[tuple[float, int]] = deque(maxlen=8)
        self._line_cache: LRUCache[tuple, Strip] = LRUCache(LINE_CACHE_PAGES * 24)
        self._newer_above = 0  # newer items above the rows in view, last reported
        self._detail_shown = ""  # the status line's detail, last posted
        self._detail_at = -1.0  # when it was last made (monotonic)
        self._sampled_at = -1.0  # when the rate window last took a sample (monotonic)
        self.store: Any = None  # this panel's part of the history store (feedview.store.PanelStore)
        self._restored = False  # the stored items are in `entries` (once, however often the feed restarts)
        self._not_arrivals = 0  # items taken in that are not news (the stored ones, shown at start)
        self._cursors: dict[str, str] = {}  # where the stream resumes: what the store last committed
        self._had_history = False  # the store had items for this panel when it opened
        self._opened_at = 0.0  # when this run began: an item sent before it came in while away
        self.away = 0  # items sent while feedview was closed, caught up on start ("+37 while you were away")
        self._in_flight = 0  # items handed to the store's writer and not yet committed
        self._room: asyncio.Event | None = None  # set when the writer has caught up
        self.read_keys: set[str] = set()  # ids of the notifications marked read (kept in the store)

    # -- the feed --------------------------------------------------------------------------

    def start_feed(self, **overrides: Any) -> Worker[None]:
        # a trickling stream gathers for a frame between reads: the screen shows it once a frame
        return super().start_feed(batches=True, gather_s=FRAME_S, **overrides)

    async def resume(self) -> dict[str, Any]:
        """The stored items at once, then the stream from where the store left it: after the last
        event id it kept (Last-Event-ID), else after its last ntfy message (since=)."""
        if not self._restored:
            self._restored = True
            self._opened_at = self.clock()
            self.store = await self.panel_store()
            if self.store is not None:
                await self._show_stored()
        if self._cursors.get("last_event_id"):
            return {"last_event_id": self._cursors["last_event_id"]}
        if self._cursors.get("ntfy_id"):
            return {"since": self._cursors["ntfy_id"]}
        return {}

    async def _show_stored(self) -> None:
        from ..store.items import items_of

        store, rows = self.store, self.config.rows

        def load() -> tuple[list[tuple[Any, float]], dict[str, str], set[str]]:
            kept = store.recent(rows)
            return items_of(kept), store.cursors(), {row.key for row in kept if row.read and row.key}

        stored, self._cursors, self.read_keys = await asyncio.to_thread(load)
        self._had_history = bool(stored)
        if stored:
            self.entries.extend(stored)
            self.received += len(stored)
            self._not_arrivals += len(stored)
            self.request_flush()

    async def consume(self, feed: AsyncIterator[Any]) -> None:
        """Take items (or lists of them) from the feed; the work per item is an append. With a
        history store, a batch is shown once the store has committed it (and only its items that
        were not stored already): what was on screen is on disk, and shown once."""
        clock = self.clock
        async for chunk in feed:
            batch = chunk if type(chunk) is list else [chunk]
            if not batch:
                continue
            if isinstance(batch[0], FeedState):  # states come alone
                for state in batch:
                    self._last_feed_state = state
                    if not self.paused:
                        self.show_state(state)
            elif self.store is not None and self.store.usable:
                await self._store_batch(batch, clock())
            else:
                self._take(batch, clock())
            if self.paused:
                self._resume = asyncio.Event()
                await self._resume.wait()
            await self.share_loop()

    def _take(self, batch: list[Any], now: float) -> None:
        self.entries.add(batch, now)
        self.received += len(batch)
        urgent = [item for item in batch if getattr(item, "priority", 0) >= 4]
        if urgent:
            self._urgent, self._urgent_count = urgent[-1], self._urgent_count + len(urgent)
        self.request_flush()

    async def _store_batch(self, batch: list[Any], now: float) -> None:
        """Hand the batch to the store's writer; it comes back to `_committed` on this loop (in
        this context: Textual's active app, which timers started then need)."""
        from ..store.items import new_items, resume_cursors

        self._in_flight += len(batch)
        self.store.add(
            new_items(batch, now),
            lambda fresh: self._committed(batch, now, fresh),
            resume_cursors(batch[-1]),
            loop=asyncio.get_running_loop(),
        )
        if self._in_flight > MAX_IN_FLIGHT:  # the disk is slower than the stream: wait for it
            self._room = asyncio.Event()
            await self._room.wait()

    def _committed(self, batch: list[Any], now: float, fresh: list[bool] | bool | None) -> None:
        """A batch is on disk: all of it new (fresh is True), or some of it (a list); or the store
        gave up (None), and it is shown as it came."""
        from ..store.items import resume_cursors

        self._in_flight -= len(batch)
        if self._room is not None and self._in_flight <= MAX_IN_FLIGHT // 2:
            self._room.set()
            self._room = None
        if not self.is_attached:  # the app is closing: the batch is on disk, shown at the next start
            return
        if isinstance(fresh, list):
            batch = [item for item, new in zip(batch, fresh, strict=True) if new]
        if fresh is not None and batch:
            self._cursors.update(resume_cursors(batch[-1]))
        if batch:
            self._count_away(batch)
            self._take(batch, now)

    def _count_away(self, batch: list[Any]) -> None:
        """Items sent before this run began, after a stored history: caught up on while away."""
        if not self._had_history:
            return
        opened = self._opened_at
        away = sum(1 for item in batch if 0 < getattr(item, "time", 0) < opened)
        if away:
            self.away += away
            self.show_badge(f"· +{self.away:,} while you were away")

    def toggle_pause(self) -> None:
        if self.feed_state.final and not self.paused:
            self.app.bell()  # nothing to pause: "paused" over a dead feed would say it is alive
            return
        self.paused = not self.paused
        self._update_detail(force=True)
        if self.paused:
            self.show_state(FeedState("paused", reason="space resumes"))
        else:
            self.show_state(self._last_feed_state or FeedState("open"))
            if self._resume is not None:
                self._resume.set()
                self._resume = None

    def action_toggle_pause(self) -> None:
        self.toggle_pause()

    def flush_frame(self) -> None:
        """Account for what arrived since the last frame: one repaint for all of it."""
        new = self.received - self._shown_seq
        if not new:
            return
        self._shown_seq = self.received
        self._set_rows(len(self.entries))
        self.refresh()  # (pinned: the rows in view only change as the oldest ones go)
        self._show_newer_above()
        self.keep_times_current()
        self.arrived(new - min(new, self._not_arrivals))
        self._not_arrivals -= min(new, self._not_arrivals)
        self._update_detail()
        if self._urgent_count:
            self.post_message(self.Urgent(self, self._urgent, self._urgent_count))
            self._urgent, self._urgent_count = None, 0

    def _set_rows(self, rows: int) -> None:
        """The scrollable height: `rows`. A virtual size lays out the whole screen in Textual
        (a filling list of each of sixteen panels: 25-45 ms a frame), which only matters when the
        scrollbar comes or goes; while it stays, its thumb is all that changes (textual==8.2.8,
        pinned: as Widget._size_updated does without a layout). The width never matters: rows
        are cut to the view (overflow-x: hidden)."""
        before, height = self.virtual_size, self.scrollable_content_region.height
        if rows == before.height:
            return
        if min(rows, before.height) > height > 0:
            size = Size(before.width, rows)
            self.set_reactive(NotificationView.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = Size(self.scrollable_content_region.width, rows)

    class Urgent(Message):
        """Priority 4 or 5 arrived: `count` such items since the last frame, `newest` of them."""

        def __init__(self, view: NotificationView, newest: Any, count: int) -> None:
            super().__init__()
            self.view = view
            self.newest = newest
            self.count = count

        @property
        def control(self) -> NotificationView:
            return self.view

    def _show_newer_above(self) -> None:
        """Reading an older item pins the list: the status line says how many newer items sit above
        the rows in view, and how to follow again (as `less +F` does). On the status line, which
        never changes the layout: a banner that came and went re-laid out a grid of 16 panels."""
        count = 0 if not self.cursor_seq else self.received - self.top_seq + int(self.scroll_y)
        if count != self._newer_above:
            self._newer_above = count
            self._update_detail(force=True)

    def keep_cursor_in_view(self) -> None:
        super().keep_cursor_in_view()
        self._show_newer_above()

    def time_labels(self) -> tuple[str, ...]:
        now, top = self.clock(), self.scroll_offset.y
        rows = (self.entry_at(top + y) for y in range(self.scrollable_content_region.height))
        return tuple(age(sent_time(item, received), now) for item, received in filter(None, rows))

    def on_second(self) -> None:
        super().on_second()
        # a quiet (or paused) stream's line catches up here (its rate falls, not stays); a busy one's
        # catches up at its own next flush: sixteen panels' lines must not all change in one frame
        if time.monotonic() - self._detail_at >= 1.0:
            self._update_detail(force=True)

    def _update_detail(self, force: bool = False) -> None:
        """The "N received · rate" line, at most every DETAIL_EVERY_S while the view has the focus,
        every second otherwise (a wall of panels: the one in use is the lively one)."""
        every = DETAIL_EVERY_S if self.has_focus else 1.0
        if not force and time.monotonic() - self._detail_at < every:
            return
        now = self.clock()  # (the rate reads the app's clock: tests pin it, so a rate shown never varies)
        self._detail_at = time.monotonic()
        if self._detail_at - self._sampled_at >= DETAIL_EVERY_S:
            # a rate sample at most every DETAIL_EVERY_S: forced redraws (a pinned list's count moves
            # every frame) would fill the window with a fraction of a second and drop the rate
            self._sampled_at = self._detail_at
            self._rate_window.append((now, self.received))
        detail = self._detail_text()
        if detail.plain != self._detail_shown:  # (a quiet stream's line stays as it is: no repaint)
            self._detail_shown = detail.plain
            self.show_detail(detail)

    def _detail_text(self) -> Text:
        detail = Text()
        if self._newer_above:
            detail.append(f"▲ {self._newer_above:,} newer · ", style="bold")
            detail.append("home", style="bold reverse")
            detail.append(" follows · ")
        detail.append(f"{self.received:,} received", style="dim")
        if self.paused:
            detail.append(" · paused", style="dim")
        elif len(self._rate_window) >= 2:
            (t0, n0), (t1, n1) = self._rate_window[0], self._rate_window[-1]
            rate = (n1 - n0) / (t1 - t0) if t1 - t0 >= 1.0 else 0.0  # (less than a second says little)
            if rate >= 0.5:  # a quiet stream shows no rate rather than a stale one
                detail.append(f" · {rate:,.0f}/s", style="dim")
        if self.received > len(self.entries):
            detail.append(f" · keeping {len(self.entries):,}", style="dim")
        return detail

    # -- rows -------------------------------------------------------------------------------

    def entry_at(self, row: int) -> tuple[Any, float] | None:
        """The item on `row` (the item numbered top_seq - row), and when it arrived."""
        newer = self.received - self.top_seq + row  # items newer than it
        if row >= 0 and newer < len(self.entries):
            return self.entries[-1 - newer]
        return None

    def row_of(self, seq: int) -> int | None:
        row = self.top_seq - seq
        return row if row >= 0 and self.received - seq < len(self.entries) else None

    @property
    def cursor_row(self) -> int:
        row = self.row_of(self.cursor_seq) if self.cursor_seq else None
        return 0 if row is None else row

    def selected(self) -> Any:
        entry = self.entry_at(self.cursor_row)
        return entry[0] if entry else None

    @property
    def row_count(self) -> int:
        return max(0, len(self.entries) - (self.received - self.top_seq))

    @property
    def top_seq(self) -> int:
        """The number of the item on row 0: the newest while the list follows it. A pinned list
        keeps the one it had, so the rows in view stay where they are without a scroll (in
        Textual a scroll lays out the whole screen again: ~20-40 ms a frame with sixteen
        panels), and the newer items wait above it until the reader goes up there."""
        return self._pinned_top if self.cursor_seq else self.received

    def select_row(self, row: int) -> None:
        top = self.top_seq
        seq = top - row
        self.cursor_seq = 0 if seq >= self.received else seq  # the newest: follow it, as `home` does
        self._pinned_top = top

    def move_to_row(self, row: int) -> None:
        if row < 0 and self.cursor_seq and self.received > self.top_seq:
            # up from a pinned list's top row, into the newer items that waited above it:
            # their rows come into being above the ones in view, which keep their place
            shift = self.received - self.top_seq
            self._pinned_top = self.received
            self.set_scroll(None, self.scroll_y + shift)
            row += shift
        super().move_to_row(row)

    def render_lines(self, crop):
        # What every line of this pass shares, computed once.
        if not self.component_styles():
            return [Strip.blank(crop.width, self.rich_style)] * crop.height
        self._pass = (self.scrollable_content_region.width, self.cursor_row, self.clock(), self._styles_for)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width, cursor_row, now, look = self._pass
        row = self.scroll_offset.y + y
        entry = self.entry_at(row)
        if entry is None:
            return Strip.blank(width, self._styles[""])
        item, received = entry
        selected = row == cursor_row
        when = age(sent_time(item, received), now)
        read = bool(self.read_keys) and getattr(item, "id", None) in self.read_keys
        key = (self.top_seq - row, width, when, selected, look, read)
        strip = self._line_cache.get(key)
        if strip is None:
            strip = self._render_entry(item, when, width, selected)
            if read:
                strip = strip.apply_style(READ_STYLE)
            self._line_cache[key] = strip
        return strip  # no offsets: clicks are mapped by row in on_click

    def _render_entry(self, item: Any, when: str, width: int, selected: bool) -> Strip:
        styles = self._styles
        priority = priority_of(item)
        icon_style = styles[PRIORITY_STYLES[priority]]
        segments = [
            Segment(f" {PRIORITY_ICONS[priority]} ", icon_style),
            Segment(f"{when:>4} ", styles["notifications--time"]),
        ]
        if hasattr(item, "message"):
            emojis, tags = split_tags(item.tags) if item.tags else ("", [])
            if emojis:  # as ntfy shows them: before the title (or the message)
                segments.append(Segment(emojis + " ", styles[""]))
            title = clean_line(item.title)
            if title:
                title_style = (
                    styles["notifications--title"] + icon_style if priority >= 4 else styles["notifications--title"]
                )
                segments.append(Segment(title + "  ", title_style))
            segments.append(Segment(clean_line(item.message), styles[""]))
            if tags:
                segments.append(Segment("  " + " ".join("#" + t for t in tags), styles["notifications--tags"]))
        else:
            segments.append(Segment(f"{clean_line(item.type)} ", styles["notifications--event"]))
            segments.append(Segment(clean_line(item.data), styles[""]))
        # One Strip per line: cropping and padding the segments first (a firehose renders
        # every visible line anew each frame, so the strips a line goes through count).
        strip = Strip(Segment.adjust_line_length(segments, width, styles[""]), width)
        if selected:
            strip = self.highlighted(strip, "notifications--cursor")
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_cache.clear()

    def on_resize(self, event: events.Resize) -> None:
        # Keep the rows in view and a page either side, no more: a firehose fills any cache at
        # once, and each strip is ~15 objects the garbage collector walks (512 strips a panel made
        # 16 panels' collections take 45-120 ms, the tail of key-to-paint).
        self._line_cache = LRUCache(LINE_CACHE_PAGES * max(8, event.size.height))

    # -- cursor and actions -----------------------------------------------------------------

    def action_cursor_newest(self) -> None:
        self.cursor_seq = 0
        self.move_to_row(0)  # and follow the newest again
        self._show_newer_above()

    def action_cursor_oldest(self) -> None:
        self.move_to_row(self.row_count - 1)

    def action_open_detail(self) -> None:
        entry = self.entry_at(self.cursor_row)
        if entry is None:
            return
        self.open_item(*entry)

    def open_item(self, item: Any, received: float) -> None:
        self.app.push_screen(notification_detail(item, sent_time(item, received), self.clock()))

    # -- read marks and search ---------------------------------------------------------------

    def action_toggle_read(self) -> None:
        """Mark the selected notification read (or unread again); the store keeps the mark."""
        key = getattr(self.selected(), "id", None)
        if not key:
            self.app.bell()  # a plain event has no id to keep a mark by
            return
        read = key not in self.read_keys
        if read:
            self.read_keys.add(key)
        else:
            self.read_keys.discard(key)
        if self.store is not None:
            self.store.mark_read([key], read)
        self.refresh()

    def action_mark_all_read(self) -> None:
        self.read_keys.update(key for item, _ in self.entries if (key := getattr(item, "id", None)))
        if self.store is not None:
            self.store.mark_all_read()
        self.refresh()

    def action_search(self) -> None:
        from .screens.search import SearchScreen

        stored = self.store is not None and self.store.usable
        title = clean_line(self.config.title or "notifications")
        where = "the stored history" if stored else "the loaded rows"
        self.app.push_screen(SearchScreen(title, self.search, self.search_row, self.open_item, where=where))

    async def search(self, text: str) -> list[tuple[Any, float]]:
        """Items holding every word of `text`, newest first: from the store (all it kept), else
        from the rows in memory."""
        if self.store is not None and self.store.usable:
            from ..store.items import items_of

            store = self.store
            return await asyncio.to_thread(lambda: items_of(store.search(text, limit=SEARCH_LIMIT)))
        words = [word.casefold() for word in text.split()]
        found = []
        for item, received in reversed(self.entries):
            haystack = " ".join(searchable(item)).casefold()
            if all(word in haystack for word in words):
                found.append((item, received))
                if len(found) >= SEARCH_LIMIT:
                    break
        return found

    def search_row(self, item: Any, received: float) -> Text:
        """One search result: priority, age, title, message and tags, as plain text."""
        priority = priority_of(item)
        row = Text(f"{PRIORITY_ICONS[priority]} {age(sent_time(item, received), self.clock()):>4} ")
        title, message, *tags = searchable(item)
        if title:
            row.append(clean_line(title) + "  ", style="bold")
        row.append(clean_line(message))
        if tags:
            row.append("  " + " ".join("#" + clean_line(t) for t in tags), style="dim")
        return row


def searchable(item: Any) -> list[str]:
    """[title, message, *tags] of a notification; ["", type + data] of a plain event."""
    if hasattr(item, "message"):
        return [item.title, item.message, *item.tags]
    return ["", f"{item.type} {item.data}"]


def notification_detail(item: Any, sent: float, now: float) -> DetailScreen:
    if not hasattr(item, "message"):  # a plain SSE event
        fields = [("event", safe_text(item.type)), ("id", safe_text(item.last_event_id))]
        return DetailScreen(Text("event", style="bold"), fields, body=safe_text(item.data))
    priority = priority_of(item)
    fields = [
        ("priority", Text(f"{PRIORITY_ICONS[priority]} {priority}", style="bold red" if priority >= 4 else "")),
        ("time", Text(stamp(sent, now))),
        ("topic", safe_text(item.topic, one_line=True)),
        ("tags", safe_text(", ".join(item.tags), one_line=True)),
        ("click", safe_text(item.click or "", "underline", one_line=True)),
        ("id", safe_text(item.id, one_line=True)),
    ]
    emojis, _ = split_tags(item.tags)
    title = safe_text(f"{emojis} " if emojis else "", one_line=True)
    title.append_text(safe_text(item.title or item.topic or "notification", "bold", one_line=True))
    raw = dict(item.raw) if item.raw else None
    if raw is None:
        from ..feeds.transport import NotJson, loads_json

        raw_data = getattr(getattr(item, "event", None), "data", None)
        try:
            raw = loads_json(raw_data) if raw_data else None
        except NotJson:
            raw = raw_data
    return DetailScreen(title, fields, body=safe_text(item.message), raw=raw, link=item.click)


class NotificationsPanel(FeedPanel):
    def make_view(self) -> NotificationView:
        return NotificationView(self.config)
