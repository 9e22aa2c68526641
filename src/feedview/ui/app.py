"""The feedview app: panels in tabs or a grid, each fed by its own feed.

Panels are widgets mounted in one container (never installed screens), so
dismissing one removes it, which cancels its worker and closes its feed.
Panel modules are imported when a panel is added, after the first frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from ..kinds import KINDS, kind_of
from .still import StillFooter, StillLines, StillScreen

if TYPE_CHECKING:
    from textual import events
    from textual.dom import DOMNode
    from textual.widgets import Button, Tabs

    from ..config import DashboardConfig, PanelConfig
    from ..store.history import HistoryStore, PanelStore
    from .notifications import NotificationView
    from .panel import FeedPanel
    from .tabs import PanelTabs


BELL_EVERY_S = 10.0  # urgent news rings the bell at most this often per panel
WEB_CLOSE_PANEL_KEY = "x"  # feedview serve: in a browser ctrl+w closes the tab, and no page can stop it


def panel_class(kind: str) -> type[FeedPanel]:
    return kind_of(kind).panel_class()


class Panels(Container, StillLines):
    """The panels' container (tabs or grid): its own lines are drawn again only when they change."""


class FeedviewApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "feedview"
    AUTO_FOCUS = None  # focus goes to the active panel's view, never to a hidden filter box
    BINDINGS = [
        # priority: handled as the key arrives, not after bubbling through every busy parent
        Binding("ctrl+w", "dismiss_panel", "Close panel", priority=True, id="close_panel"),
        Binding("a", "add_panel", "Add panel"),
        Binding("g", "toggle_layout", "Grid/tabs"),
        Binding("right_square_bracket", "cycle_tab(1)", "Next tab", show=False),
        Binding("left_square_bracket", "cycle_tab(-1)", "Prev tab", show=False),
        *(Binding(str(n), f"show_tab({n})", f"Tab {n}", show=False) for n in range(1, 10)),
        Binding("d", "demo", "Demo"),  # (in the footer only while there is no panel: check_action)
        Binding("q", "quit", "Quit"),
        # a watcher is left with ctrl+c, as tail -f and ntfy subscribe are (a focused input
        # still copies with it: the input's own binding comes first)
        Binding("ctrl+c", "interrupt", "Quit", show=False),
    ]

    def __init__(
        self,
        panels: Iterable[PanelConfig] = (),
        *,
        theme: str | None = None,
        layout: str = "tabs",
        welcome_path: Path | None = None,
        demo: bool = False,
        panels_after_first_frame: bool = False,
        clock: Callable[[], float] = time.time,
        feeds: Callable[..., AsyncIterator[Any]] | None = None,
        history: Path | Callable[[], Path | None] | None = None,
    ) -> None:
        super().__init__()
        self.initial_panels = list(panels)
        self.initial_theme = theme
        self.layout_mode = layout
        self.welcome_path = welcome_path
        self.open_demo_on_start = demo
        # From the command line: paint the shell first, then import and open the panels.
        # Tests and benchmarks keep the default, panels present once the app runs.
        self.panels_after_first_frame = panels_after_first_frame and bool(self.initial_panels)
        self.clock = clock
        self._feeds = feeds  # tests may bring their own
        self.resources = contextlib.ExitStack()  # the demo's lab lives here until exit
        self._panel_count = 0
        self._tab_bar_lock = asyncio.Lock()
        self._last_bell: dict[str, float] = {}  # panel id -> when its urgent news last rang the bell
        # the history store's file (or what finds it, called in a thread); None: nothing is kept
        self.history_path = history
        self.history: HistoryStore | None = None  # opened by the first panel that keeps history
        self._history_opened = False
        self._history_lock = asyncio.Lock()

    def open_feed(self, config: PanelConfig, *, batches: bool = False, **overrides: Any) -> AsyncIterator[Any]:
        """A fresh feed for this panel config; `overrides` replace options (e.g. sort); `batches`:
        where the feed can, lists of items (one per network read). Feed modules and httpx load
        with the first panel, not before the first frame."""
        if self._feeds is not None:
            return self._feeds(config, batches=batches, **overrides)
        return kind_of(config.kind).open_feed({**config.options, **overrides}, batches)

    async def panel_store(self, config: PanelConfig) -> PanelStore | None:
        """The history store's part for this panel, or None (history off, globally or for the
        panel, or the store unusable). The store opens with the first panel that asks, in a
        thread: after the first frame, never before it."""
        if self.history_path is None or not config.history:
            return None
        async with self._history_lock:
            if not self._history_opened:
                self._history_opened = True
                where = self.history_path
                path = await asyncio.to_thread(where) if callable(where) else where
                if path is not None:
                    await self._open_history(path)
        store = self.history
        if store is None or store.broken:
            return None
        from ..store.history import Retention
        from ..store.items import identity
        from ..text import clean_line

        kind = kind_of(config.kind)
        name = clean_line(config.title or kind.default_title(config.options))
        key = identity(config.kind, config.options, kind.identity_keys)
        retention = Retention(config.retention_days, config.max_items)
        return await asyncio.to_thread(store.panel, key, config.kind, name, retention)

    async def _open_history(self, path: Path) -> None:
        from ..store.history import HistoryStore

        store, note = await asyncio.to_thread(HistoryStore.open, path)
        if note:
            self.notify(note, severity="warning", markup=False, timeout=15)
        if store is None:
            return
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()

        def broken(why: str) -> None:  # (in the writer's thread)
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to tell
                loop.call_soon_threadsafe(
                    lambda: self.notify(why, severity="warning", markup=False, timeout=15), context=context
                )

        store.on_broken(broken)
        self.history = store

    async def on_unmount(self) -> None:
        """Every feed has stopped: what the writer still holds is committed, then the file closed."""
        store, self.history = self.history, None
        if store is not None:
            await asyncio.to_thread(store.close)

    # -- layout -----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return StillScreen(id="_default")

    def compose(self) -> ComposeResult:
        # no tab bar yet: add_panel mounts it with the first panel (the first frame without it)
        starting = []
        if self.open_demo_on_start:
            starting = [Static("Starting the feed lab…", id="empty")]
        elif self.panels_after_first_frame:
            starting = [Static("Opening panels…", id="empty")]
        yield Panels(*starting, id="panels", classes=f"-{self.layout_mode}")
        yield StillFooter()

    async def on_mount(self) -> None:
        self._use_web_keys()
        if self.initial_theme:
            if self.initial_theme in self.available_themes:
                self.theme = self.initial_theme
            else:
                self.notify(
                    f"unknown theme {self.initial_theme!r}: ctrl+p > Theme lists them", severity="warning", markup=False
                )
        if self.panels_after_first_frame:
            self.call_after_refresh(lambda: self.run_worker(self._open_initial_panels(), group="startup"))
        else:
            for config in self.initial_panels:
                await self.add_panel(config, activate=False)
        if self.open_demo_on_start:
            self.call_after_refresh(self.action_demo)  # the first frame first
        elif not self.initial_panels:
            self._show_empty()
        self.call_after_refresh(self._freeze_startup_objects)

    async def _open_initial_panels(self) -> None:
        for config in self.initial_panels:
            await self.add_panel(config, activate=False)
        self.call_after_refresh(self._freeze_startup_objects)

    @staticmethod
    def _freeze_startup_objects() -> None:
        """Move what exists after start-up (Textual's objects and ours) out of the garbage
        collector's sight: a busy stream triggers full collections, and each would otherwise
        walk all of them (measured: 37 ms a pass, 12 ms frozen).
        `feedview` starts with the collector off (cli.main): this turns it back on."""
        import gc

        gc.collect()
        gc.freeze()
        # A stream's objects (events, ring-buffer entries) live a fraction of a second and are
        # freed by reference counting. At Python's default threshold of 700 allocations the
        # collector still ran ~300 times a second on a 10,000 events/s stream, with a full pass
        # (12-22 ms) about twice a second, the tail of key-to-repaint; at 10,000 a full pass
        # comes every few seconds (benchmarks/ui_firehose.py: p99 40-48 ms -> 30-36 ms).
        gc.set_threshold(10_000, 10, 10)
        gc.enable()

    def _focus_active(self) -> None:
        panel = self._panel_for_tab(self._active_tab)
        if panel is None or (self.focused and panel in self.focused.ancestors_with_self):
            return
        panel.focus_view()  # the selected panel and the focused panel are one and the same

    @property
    def tabs(self) -> PanelTabs | None:
        """The tab bar, once there has been a panel."""
        found = self.query("#tabs")
        return cast("PanelTabs", found.first()) if found else None

    @property
    def _active_tab(self) -> str | None:
        tabs = self.tabs
        return tabs.active if tabs is not None else None

    @property
    def panels(self) -> list[FeedPanel]:
        # by type name, so that the welcome page's first frame need not import the panels
        found = [panel for container in self.query("#panels") for panel in container.query_children("FeedPanel")]
        return cast("list[FeedPanel]", found)

    async def add_panel(self, config: PanelConfig, *, activate: bool = True) -> FeedPanel:
        self._panel_count += 1
        number = self._panel_count
        panel = panel_class(config.kind)(config, id=f"panel-{number}")
        container = self.query_one("#panels")
        await container.query("#welcome, #empty").remove()
        await container.mount(panel)
        from .tabs import Tab

        tabs = await self._tab_bar()
        await tabs.add_tab(Tab(panel.label(), id=f"tab-{number}"))
        if activate:
            tabs.active = f"tab-{number}"
        self._arrange()
        self._focus_active()
        self.call_after_refresh(self._focus_active)  # again once laid out, if it was too early
        return panel

    async def _tab_bar(self) -> PanelTabs:
        """The tab bar, mounted by whichever add_panel needs it first (two may run at once)."""
        from .tabs import PanelTabs

        async with self._tab_bar_lock:
            tabs = self.tabs
            if tabs is None:
                tabs = PanelTabs(id="tabs")
                tabs.can_focus = False
                await self.mount(tabs, before=self.query_one("#panels"))
            return tabs

    def _panel_for_tab(self, tab_id: str | None) -> FeedPanel | None:
        if not tab_id or not self.query("#panels"):  # none yet, or shutting down
            return None
        found = self.query_one("#panels").query(f"#panel-{tab_id.removeprefix('tab-')}")
        return cast("FeedPanel", found.first()) if found else None

    def current_panel(self) -> FeedPanel | None:
        """The focused panel, else the active tab's."""
        from .panel import FeedPanel

        node: DOMNode | None = self.focused
        while node is not None:
            if isinstance(node, FeedPanel):
                return node
            node = node.parent
        return self._panel_for_tab(self._active_tab)

    def _arrange(self) -> None:
        panels = self.panels
        tabs = self.tabs
        active = self._panel_for_tab(self._active_tab)
        container = self.query_one("#panels")
        grid = self.layout_mode == "grid"
        container.set_classes(f"-{self.layout_mode}")
        if tabs is not None:
            tabs.display = bool(panels)
        if grid and panels:
            container.styles.grid_size_columns = math.ceil(math.sqrt(len(panels)))
        for panel in panels:
            shown = grid or panel is active
            panel.display = shown
            panel.set_visible_to_user(shown)
            panel.set_class(panel is active and grid, "-active")
        if active is not None:
            self._forget_toast(active)  # the user now looks at that panel: its toast has done its work

    def _forget_toast(self, panel: FeedPanel) -> None:
        from .alerts import Alerts

        for rack in self.screen_stack[0].query("#alerts").results(Alerts):
            rack.forget(panel.id or "")

    def _show_empty(self) -> None:
        container = self.query_one("#panels")
        if self.panels or container.query("#welcome, #empty"):
            return
        if self.welcome_path is not None:
            from .screens.welcome import Welcome

            container.mount(Welcome(self.welcome_path))
        else:
            container.mount(
                Static(
                    Text.assemble(
                        "No panels. Press ",
                        ("a", "bold"),
                        " to add one (or ",
                        ("ctrl+p", "bold"),
                        " > Add panel); ",
                        ("q", "bold"),
                        " quits.",
                    ),
                    id="empty",
                )
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "dismiss_panel":
            from textual.widgets import Input

            # over a form or detail, or while typing (ctrl+w deletes a word), the key is theirs
            return bool(self.panels) and len(self.screen_stack) == 1 and not isinstance(self.focused, Input)
        if action in ("toggle_layout", "cycle_tab", "show_tab"):
            return bool(self.panels)  # keys that mean nothing without panels leave the footer
        if action == "demo":
            return not self.panels
        return True

    # -- served in a browser (feedview serve) ---------------------------------------------------

    def _use_web_keys(self) -> None:
        """A browser closes the tab on ctrl+w before the page sees the key: served, "close
        panel" moves to a key that reaches the app (and the footer shows that one)."""
        if self.is_web:
            self.update_keymap({"close_panel": WEB_CLOSE_PANEL_KEY})

    async def action_interrupt(self) -> None:
        """ctrl+c: in a terminal it quits; in a browser it is the copy key, and ending the
        whole session over a copy would lose the dashboard: say which key quits instead."""
        if self.is_web:
            self.notify("In a browser ctrl+c copies; q quits.", timeout=4)
        else:
            await self.action_quit()

    @property
    def close_panel_key(self) -> str:
        return WEB_CLOSE_PANEL_KEY if self.is_web else "ctrl+w"

    # -- events -----------------------------------------------------------------------------

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        self._arrange()
        self.call_after_refresh(self._focus_active)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if self.layout_mode == "grid":
            panel = self.current_panel()
            tabs = self.tabs
            if panel is not None and tabs is not None:
                tabs.active = panel.tab_id

    async def on_notification_view_urgent(self, message: NotificationView.Urgent) -> None:
        """A panel's urgent news: the bell at most every BELL_EVERY_S per panel (a busy alert topic
        would ring non-stop), and, unless the user is looking at that panel, its one toast,
        updated in place."""
        from .alerts import Alerts
        from .notifications import priority_of

        panel = self._panel_of(message.control)
        if panel is None:
            return
        now = time.monotonic()
        if now - self._last_bell.get(panel.id or "", -BELL_EVERY_S) >= BELL_EVERY_S:
            self._last_bell[panel.id or ""] = now
            self.bell()
        if panel is self.current_panel() and panel.visible_to_user:
            return  # the user is looking at this very list: its red rows say it, a toast would cover them
        dashboard = self.screen_stack[0]  # under any detail or form pushed over it
        found = dashboard.query("#alerts")
        rack = found.first(Alerts) if found else None
        if rack is None:  # mounted with the first urgent news, not before the first frame
            rack = Alerts()
            await dashboard.mount(rack)
        newest = message.newest
        rack.show(
            panel.id or "",
            panel.title,
            getattr(newest, "title", "") or getattr(newest, "topic", "") or "notification",
            getattr(newest, "message", ""),
            message.count - 1,
            "error" if priority_of(newest) == 5 else "warning",
        )

    def _panel_of(self, widget: DOMNode | None) -> FeedPanel | None:
        from .panel import FeedPanel

        for node in widget.ancestors_with_self if widget is not None else ():
            if isinstance(node, FeedPanel):
                return node
        return None

    def on_feed_panel_changed(self, event: FeedPanel.Changed) -> None:
        label = Content.from_rich_text(event.panel.label())
        from .tabs import Tab

        for tab in self.query(f"#{event.panel.tab_id}").results(Tab):
            if tab.label.markup != label.markup:  # a relabel re-lays the tabs out
                tab.label = label

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "open-demo":
            self.action_demo()
        elif event.button.id == "quit":
            self.exit(0)

    # -- actions ----------------------------------------------------------------------------

    async def action_dismiss_panel(self) -> None:
        panel = self.current_panel()
        if panel is None:
            self.bell()
            return
        # Cancel the feed's worker first and let aclosing close the generator (and its
        # connection) before the DOM work of removing the panel, which takes a while.
        cancelled = self.workers.cancel_node(panel.view)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(w.wait() for w in cancelled), return_exceptions=True), 0.5)
        await panel.remove()
        self._forget_toast(panel)
        tabs = self.tabs
        if tabs is not None:
            await tabs.remove_tab(panel.tab_id)
        self._arrange()
        remaining = self.current_panel()
        if remaining is not None:
            remaining.focus_view()
        else:
            self._show_empty()

    def action_toggle_layout(self) -> None:
        self.layout_mode = "grid" if self.layout_mode == "tabs" else "tabs"
        self._arrange()

    def action_cycle_tab(self, direction: int) -> None:
        tabs = self.tabs
        if tabs is None:
            return
        if direction > 0:
            tabs.action_next_tab()
        else:
            tabs.action_previous_tab()

    def action_show_tab(self, number: int) -> None:
        panels = self.panels
        tabs = self.tabs
        if 1 <= number <= len(panels) and tabs is not None:
            tabs.active = panels[number - 1].tab_id

    def action_add_panel(self) -> None:
        from .screens.add_panel import AddPanelScreen

        async def added(config: PanelConfig | None) -> None:
            if config is not None:
                await self.add_panel(config)

        self.push_screen(AddPanelScreen(), added)

    def action_demo(self) -> None:
        if not self.panels:
            self.run_worker(self._open_demo(), group="demo", exclusive=True)

    async def _open_demo(self) -> None:
        from ..demo import demo_lab, demo_panels

        container = self.query_one("#panels")
        if not container.query("#empty"):
            await container.query("#welcome").remove()
            await container.mount(Static("Starting the feed lab…", id="empty"))
        # demo_lab() imports the lab (uvicorn, starlette): in the thread too, off the event loop.
        lab = await asyncio.to_thread(lambda: self.resources.enter_context(demo_lab()))
        for config in demo_panels(lab):
            await self.add_panel(config, activate=False)
        self.call_after_refresh(self._freeze_startup_objects)

    def action_toggle_pause(self) -> None:
        panel = self.current_panel()
        if panel is not None and panel.can_pause:
            panel.toggle_pause()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Add panel", f"Add a panel: {', '.join(KINDS)}", self.action_add_panel)
        if self.panels:
            yield SystemCommand(
                "Close panel",
                f"Dismiss the active panel and close its feed ({self.close_panel_key})",
                self.action_dismiss_panel,
            )
            yield SystemCommand(
                "Toggle grid/tabs", "Show every panel at once, or one per tab (g)", self.action_toggle_layout
            )
        panel = self.current_panel()
        if panel is not None and panel.can_pause:
            yield SystemCommand(
                "Pause/resume panel", "Stop or resume pulling the active stream (space)", self.action_toggle_pause
            )
        for index, each in enumerate(self.panels, 1):
            tab_id = each.tab_id
            yield SystemCommand(
                f"Go to panel: {each.title}",
                f"Show panel {index}",
                lambda tab_id=tab_id: setattr(self.tabs, "active", tab_id),
            )
        yield from super().get_system_commands(screen)


def run_app(app: FeedviewApp) -> int:
    try:
        app.run()
    finally:
        app.resources.close()
    return app.return_code or 0


def run_panels(panels: list[PanelConfig], *, theme: str | None = None, layout: str = "tabs") -> int:
    """Open the app on these panels, keeping their history in the store (feedview.store.store_path:
    none with --no-history); the exit status when it closes."""
    unknown = sorted({p.kind for p in panels} - set(KINDS))
    if unknown:
        import sys

        print(f"feedview: error: no dashboard panel for {', '.join(unknown)} yet", file=sys.stderr)
        return 1
    from ..store.paths import store_path

    app = FeedviewApp(panels, theme=theme, layout=layout, panels_after_first_frame=True, history=store_path)
    return run_app(app)


def run_dashboard(config: DashboardConfig | None, config_path: Path) -> int:
    """The config's dashboard, or the welcome page when there is no config."""
    if config is None:
        from ..store.paths import store_path

        return run_app(FeedviewApp(welcome_path=config_path, history=store_path))
    return run_panels(config.panels, theme=config.theme, layout=config.layout)


def run_demo() -> int:
    return run_app(FeedviewApp(demo=True))
