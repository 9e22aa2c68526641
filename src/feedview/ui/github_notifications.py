"""The GitHub notifications panel: your notification threads, newest first.

The feed polls the way GitHub asks and yields a thread again when its updated_at
moves, so the list is keyed by thread id and updated in place. It is a Line-API
view (only the visible rows are rendered), flushed at most once a frame. `r`
marks a thread read at once and sends the PATCH in a worker of its own group,
rolling the row back if GitHub refuses.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.strip import Strip

from ..config import PanelConfig
from ..feeds.state import FeedState
from ..text import clean_line
from .line_list import LineList
from .links import copy_link, open_link
from .panel import FeedPanel
from .safe import safe_text
from .screens.detail import DetailScreen
from .timefmt import age, parse_iso, stamp

REASON_WIDTH = 16  # "review_requested"
REPO_WIDTH_MAX = 32
TYPE_LABELS = {
    "PullRequest": "PR",
    "Issue": "issue",
    "Release": "release",
    "Commit": "commit",
    "Discussion": "discuss",
    "CheckSuite": "CI",
    "RepositoryVulnerabilityAlert": "alert",
    "RepositoryDependabotAlertsThread": "alert",
    "RepositoryAdvisory": "advisory",
}
TYPE_WIDTH = 7
REASON_STYLES = {
    "mention": "gh--urgent",
    "team_mention": "gh--urgent",
    "security_alert": "gh--urgent",
    "review_requested": "gh--review",
    "assign": "gh--assign",
    "author": "gh--own",
    "comment": "gh--own",
    "state_change": "gh--own",
    "manual": "gh--own",
}
TYPE_STYLES = {"PullRequest": "gh--pr", "Issue": "gh--issue"}
# Options of the panel that shape the listing, not a single request like mark-read.
_LISTING_OPTIONS = ("all", "participating", "repo", "per_page")


def _newest_first(thread: Any) -> tuple[str, str]:
    return thread.updated_at, thread.id


class ThreadList(LineList, can_focus=True):
    """Notification threads by id, shown newest first; one row per thread."""

    BINDINGS = [
        Binding("enter", "open_detail", "Detail"),
        Binding("o", "open_browser", "Open"),
        Binding("r", "mark_read", "Mark read"),
        Binding("y", "copy_url", "Copy URL", show=False),
        Binding("home", "cursor_to(0)", "Newest", show=False),
        Binding("end", "cursor_to(-1)", "Oldest", show=False),
    ]
    COMPONENT_CLASSES = {
        "gh--cursor",
        "gh--unread",
        "gh--read",
        "gh--time",
        "gh--repo",
        "gh--title",
        "gh--urgent",
        "gh--review",
        "gh--assign",
        "gh--own",
        "gh--other",
        "gh--pr",
        "gh--issue",
        "gh--type",
        "gh--message",
        "gh--error",
    }
    DEFAULT_CSS = """
    ThreadList {
        height: 1fr;
        background: $surface;
        overflow-x: hidden;  /* rows are cut to the width: never a horizontal scrollbar */
        & > .gh--cursor { background: $block-cursor-blurred-background; }
        &:focus > .gh--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
        & > .gh--unread { color: $text-accent; text-style: bold; }
        & > .gh--read { color: $text-muted; }
        & > .gh--time { color: $text-muted; }
        & > .gh--repo { color: $text-secondary; }
        & > .gh--title { text-style: bold; }
        & > .gh--urgent { color: $text-error; text-style: bold; }
        & > .gh--review { color: $text-warning; text-style: bold; }
        & > .gh--assign { color: $text-accent; }
        & > .gh--own { color: $text-success; }
        & > .gh--other { color: $text-muted; }
        & > .gh--pr { color: $text-success; }
        & > .gh--issue { color: $text-primary; }
        & > .gh--type { color: $text-muted; }
        & > .gh--message { color: $text-muted; }
        & > .gh--error { color: $text-error; text-style: bold; }
    }
    """

    def __init__(self, config: PanelConfig) -> None:
        super().__init__(config)
        self.history = config.rows
        self.threads: dict[str, Any] = {}  # thread id -> the NotificationThread shown
        self.order: list[str] = []  # thread ids, newest first
        self.cursor_id: str | None = None  # None: the newest
        self.checked = False  # a first listing has arrived
        self._arrived: list[Any] = []  # threads since the last flush
        self._repo_width = 0
        self.store: Any = None  # this panel's part of the history store (feedview.store.history.PanelStore)
        self._cursor: Any = None  # feeds.github_notifications.PollCursor: where polling resumes
        self._unsaved: list[Any] = []  # threads yielded by the poll under way, stored at its end

    @property
    def mark_group(self) -> str:
        """Mark-read requests run in their own group: the feed's exclusive worker never cancels them."""
        return f"mark-read:{self.id}"

    @property
    def unread_count(self) -> int:
        return sum(1 for thread in self.threads.values() if thread.unread)

    # -- the feed --------------------------------------------------------------------------

    async def resume(self) -> dict[str, Any]:
        """The threads the store kept, shown at once (with their read marks), and the poll resumed
        from the stored Last-Modified: a restart asks If-Modified-Since and costs a 304."""
        if self._cursor is None:
            from ..feeds.github_notifications import PollCursor

            self._cursor = PollCursor()
            self.store = await self.panel_store()
            if self.store is not None:
                await self._show_stored()
        return {"cursor": self._cursor}

    async def _show_stored(self) -> None:
        import msgspec

        from ..feeds.github_notifications import NotificationThread

        store = self.store

        def load() -> tuple[list[Any], dict[str, str]]:
            threads = []
            for _, _, unread, payload in store.threads():
                try:
                    raw = msgspec.json.decode(payload)
                except msgspec.DecodeError:
                    continue
                if isinstance(raw, dict):
                    threads.append(dataclasses.replace(NotificationThread.from_json(raw), unread=unread))
            return threads, store.cursors()

        threads, cursors = await asyncio.to_thread(load)
        self._cursor.last_modified = cursors.get("last_modified") or None
        for thread in threads:
            self._cursor.seen[thread.id] = thread.updated_at
            self.threads[thread.id] = thread
        if threads:
            self.checked = True
            self.request_flush()

    async def consume(self, feed: AsyncIterator[Any]) -> None:
        async for item in feed:
            if isinstance(item, FeedState):
                if item.phase == "idle" and not self.checked:
                    self.checked = True  # the first listing is complete, even if it was empty
                    self.request_flush()
                if item.phase == "idle":
                    self._save_poll()
                self.show_state(item)
            else:
                self._arrived.append(item)
                self._unsaved.append(item)
                self.request_flush()
            await self.share_loop()

    def _save_poll(self) -> None:
        """A poll is complete: its threads and then its Last-Modified go to the store, in one commit
        (a Last-Modified stored without its threads would hide them behind a 304)."""
        unsaved, self._unsaved = self._unsaved, []
        if self.store is None or self._cursor is None:
            return
        self.store.put_threads([_stored(t) for t in unsaved], {"last_modified": self._cursor.last_modified or ""})

    def show_state(self, state: FeedState) -> None:
        super().show_state(state)
        if state.final:
            self.refresh()  # an empty list says why in its body

    def flush_frame(self) -> None:
        """Put what arrived since the last frame in place: one sort and one repaint for all of it."""
        arrived, self._arrived = self._arrived, []
        fresh_unread = 0
        for thread in arrived:
            before = self.threads.get(thread.id)
            if thread.unread and (before is None or not before.unread or before.updated_at != thread.updated_at):
                fresh_unread += 1
            self.threads[thread.id] = thread
        newest = sorted(self.threads.values(), key=_newest_first, reverse=True)
        for dropped in newest[self.history :]:  # a bounded history: the oldest go
            del self.threads[dropped.id]
        self.order = [thread.id for thread in newest[: self.history]]
        if self.cursor_id not in self.threads:
            self.cursor_id = None
        self._repo_width = min(
            REPO_WIDTH_MAX, max((len(clean_line(t.repository)) for t in self.threads.values()), default=0)
        )
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.order))
        self.keep_cursor_in_view()
        self.refresh()
        if self.order:
            self.keep_times_current()
        self.arrived(fresh_unread)
        self._show_counts()

    # -- rows -------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.order)

    def select_row(self, row: int) -> None:
        self.cursor_id = self.order[row]

    @property
    def cursor_row(self) -> int:
        if self.cursor_id is None:
            return 0
        try:
            return self.order.index(self.cursor_id)
        except ValueError:
            return 0

    def selected(self) -> Any:
        row = self.cursor_row
        return self.threads[self.order[row]] if row < len(self.order) else None

    def render_lines(self, crop):
        if not self.component_styles():
            return [Strip.blank(crop.width, self.rich_style)] * crop.height
        width = self.scrollable_content_region.width
        self._pass = (width, self.cursor_row, self.clock(), self._message_lines(width))
        return super().render_lines(crop)

    def _message_lines(self, width: int) -> list[Strip]:
        """What the body says when there are no threads to show: the error, or why it is empty."""
        if self.order:
            return []
        state = self.feed_state
        if state.phase == "error":
            text = safe_text(state.reason, self._styles["gh--error"])
        elif not self.checked:
            text = Text("checking GitHub for notifications…", self._styles["gh--message"])
        else:
            options = self.config.options
            which = "notifications" if options.get("all") else "unread notifications"
            if options.get("participating"):
                which += " you take part in"
            text = Text(f"All caught up: no {which}.", self._styles["gh--message"])
        text.pad_left(1)
        console = self.app.console
        return [
            Strip(list(line.render(console)), line.cell_len).adjust_cell_length(width, self._styles[""])
            for line in text.wrap(console, max(1, width - 1))
        ]

    def render_line(self, y: int) -> Strip:
        width, cursor_row, now, message = self._pass
        row = self.scroll_offset.y + y
        if row < len(message):
            return message[row]
        if row >= len(self.order):
            return Strip.blank(width, self._styles[""])
        return self._render_thread(self.threads[self.order[row]], width, row == cursor_row, now)

    def _render_thread(self, thread: Any, width: int, selected: bool, now: float) -> Strip:
        styles = self._styles
        read = styles["gh--read"] if not thread.unread else None
        when = parse_iso(thread.updated_at)
        shown_age = age(when, now) if when is not None else ""

        def style(name: str) -> Style:
            return read or styles[name]

        reason = clean_line(thread.reason)
        kind = TYPE_LABELS.get(thread.subject_type, clean_line(thread.subject_type)[:TYPE_WIDTH])
        repo = clean_line(thread.repository)
        if len(repo) > self._repo_width:
            repo = repo[: self._repo_width - 1] + "…"
        left = [
            Segment(" ● " if thread.unread else "   ", styles["gh--unread"]),
            Segment(f"{reason[:REASON_WIDTH]:<{REASON_WIDTH}} ", style(REASON_STYLES.get(reason, "gh--other"))),
            Segment(f"{repo:<{self._repo_width}}  ", style("gh--repo")),
            Segment(f"{kind:<{TYPE_WIDTH}} ", style(TYPE_STYLES.get(thread.subject_type, "gh--type"))),
        ]
        right = [Segment(f" {shown_age:>4} ", styles["gh--time"])]
        room = max(0, width - sum(s.cell_length for s in left) - sum(s.cell_length for s in right))
        title = Segment(clean_line(thread.subject_title), style("gh--title") if thread.unread else read)
        segments = [*left, *Segment.adjust_line_length([title], room, styles[""]), *right]
        strip = Strip(Segment.adjust_line_length(segments, width, styles[""]), width)
        if selected:
            strip = self.highlighted(strip, "gh--cursor")
        return strip

    def time_labels(self) -> tuple[str, ...]:
        now, top = self.clock(), int(self.scroll_offset.y)
        shown = self.order[top : top + self.scrollable_content_region.height]
        return tuple(age(when, now) if (when := parse_iso(self.threads[i].updated_at)) else "" for i in shown)

    # -- cursor -----------------------------------------------------------------------------

    def action_cursor_to(self, row: int) -> None:
        self.move_to_row(row if row >= 0 else len(self.order) - 1)

    # -- actions ----------------------------------------------------------------------------

    def action_open_detail(self) -> None:
        thread = self.selected()
        if thread is not None:
            self.app.push_screen(thread_detail(thread, self.clock()))

    async def action_open_browser(self) -> None:
        thread = self.selected()
        await open_link(self.app, thread.html_url if thread else None)

    def action_copy_url(self) -> None:
        thread = self.selected()
        copy_link(self.app, thread.html_url if thread else None)

    def action_mark_read(self) -> None:
        """Shown read at once; the PATCH goes in the background and a refusal rolls it back."""
        thread = self.selected()
        if thread is None or not thread.unread:
            self.app.bell()
            return
        self._replace(dataclasses.replace(thread, unread=False))
        self.run_worker(self._mark_read(thread), group=self.mark_group, exit_on_error=False)

    async def _mark_read(self, before: Any) -> None:
        from ..feeds.github_notifications import mark_thread_read
        from ..kinds import github_request_options

        try:
            options = await github_request_options(
                {k: v for k, v in self.config.options.items() if k not in _LISTING_OPTIONS}
            )
            await mark_thread_read(before.id, **options)
        except Exception as exc:  # refused or unreachable: either way the thread is still unread  # noqa: BLE001
            shown = self.threads.get(before.id)
            if shown is not None and shown.updated_at == before.updated_at and not shown.unread:
                self._replace(before)  # unless the feed brought a newer version meanwhile
            title = clean_line(before.subject_title)
            self.app.notify(
                clean_line(str(exc) or type(exc).__name__),
                title=f"not marked read: {title[:60]}{'…' if len(title) > 60 else ''}",
                severity="error",
                markup=False,
                timeout=10,
            )

    def _replace(self, thread: Any) -> None:
        if thread.id in self.threads:
            self.threads[thread.id] = thread
            self.refresh()
            self._show_counts()
            if self.store is not None:  # a read mark (or its rollback) outlives the session
                self.store.put_threads([_stored(thread)])

    def _show_counts(self) -> None:
        """The status line counts threads; the border carries the unread count."""
        unread = self.unread_count
        detail = Text(
            f"{len(self.order):,} thread{'' if len(self.order) == 1 else 's'} · {unread:,} unread", style="dim"
        )
        options = self.config.options
        scope = [
            word
            for word, on in (("participating", options.get("participating")), ("read ones too", options.get("all")))
            if on
        ]
        if options.get("repo"):
            scope.insert(0, clean_line(options["repo"]))
        if scope:
            detail.append(f" · {', '.join(scope)}")
        self.show_detail(detail)
        self.show_badge(f"· {unread:,} unread" if unread else "")


def thread_detail(thread: Any, now: float) -> DetailScreen:
    epoch = parse_iso(thread.updated_at)
    last_read = parse_iso(thread.last_read_at)
    fields = [
        ("reason", safe_text(thread.reason, one_line=True)),
        ("repository", safe_text(thread.repository, one_line=True)),
        ("type", safe_text(thread.subject_type, one_line=True)),
        ("state", Text("unread", style="bold") if thread.unread else Text("read")),
        ("updated", Text(stamp(epoch, now)) if epoch else safe_text(thread.updated_at, one_line=True)),
        (
            "last read",
            Text(stamp(last_read, now)) if last_read else safe_text(thread.last_read_at or "", one_line=True),
        ),
        ("web page", safe_text(thread.html_url or "", "underline", one_line=True)),
        ("subject API", safe_text(thread.subject_url or "", one_line=True)),
        ("thread id", safe_text(thread.id, one_line=True)),
    ]
    title = safe_text(thread.subject_title or "(no title)", "bold", one_line=True)
    return DetailScreen(title, fields, raw=dict(thread.raw) if thread.raw else None, link=thread.html_url)


class GitHubNotificationsPanel(FeedPanel):
    """Threads from `GET /notifications`; the routine wait between checks reads as a countdown."""

    def make_view(self) -> ThreadList:
        return ThreadList(self.config)


def _stored(thread: Any) -> tuple[str, str, bool, str]:
    """A thread as the store keeps it: (id, updated_at, unread, its JSON as GitHub sent it)."""
    import msgspec

    return thread.id, thread.updated_at, thread.unread, msgspec.json.encode(dict(thread.raw)).decode()
