"""The TOML config: a list of panels. (Contract; parsing filled in by the app issue.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PanelKind = Literal["notifications", "repos", "health", "github-notifications"]


@dataclass
class PanelConfig:
    """One dashboard panel.

    `options` holds the feed's keyword arguments, named exactly as the feed function
    names them (e.g. url/headers/last_event_id for notifications; owner/org/mine/search/
    base_url/token/per_page/sort/direction for repos; urls/interval/timeout for health).
    """

    kind: PanelKind
    title: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
