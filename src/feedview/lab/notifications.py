"""Lab endpoints: notifications (to be filled in by its issue)."""

from __future__ import annotations

from starlette.routing import Route

from .state import LabConfig, LabState

# (method and path, what it is) for `feedview lab` and the index page
ENDPOINTS: list[tuple[str, str]] = []


def routes(config: LabConfig, state: LabState) -> list[Route]:
    return []
