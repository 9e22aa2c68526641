"""The tab bar, one tab per panel. The app mounts it with the first panel, so that
neither it nor Textual's Tabs is loaded before the first frame."""

from __future__ import annotations

from textual.widgets import Tab, Tabs

from .still import StillLines

__all__ = ["PanelTabs", "Tab"]


class PanelTabs(Tabs, StillLines):
    """Tabs whose labels change all the time (unread counts, connection dots): the
    underline follows them without animating, or it would never come to rest."""

    def _on_tab_relabelled(self, event: Tab.Relabelled) -> None:
        event.prevent_default()  # Tabs' own handler would animate
        event.stop()
        self._highlight_active(animate=False)
