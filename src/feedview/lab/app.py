"""The lab's ASGI application: every endpoint module's routes behind the fault knobs."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import events, health, notifications, repos
from .faults import CYCLES, FAULTS, KNOBS, FaultMiddleware
from .state import LabConfig, LabState

MODULES = (repos, events, health, notifications)

# the lab's own: the index, and the prefix that gives base URLs knobs (faults.py)
ENDPOINTS: list[tuple[str, str]] = [
    ("/", "this listing: endpoints, every fault knob (knobs) and the cycle= lists (cycles)"),
    ("/_knobs/{k=v&...}/{path}", "any endpoint with those knobs, for base URLs; e.g. /_knobs/cycle=repos/orgs/x/repos"),
]


def endpoints() -> list[tuple[str, str]]:
    return [e for m in MODULES for e in m.ENDPOINTS] + ENDPOINTS


def build_app(config: LabConfig, state: LabState):
    async def index(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "name": "feedview lab",
                "endpoints": [{"path": p, "what": w} for p, w in endpoints()],
                "knobs": [{"knob": k, "endpoints": e, "what": w} for k, e, w in KNOBS],
                "faults": FAULTS,
                "cycles": CYCLES,
            }
        )

    route_list = [Route("/", index)]
    for module in MODULES:
        route_list.extend(module.routes(config, state))
    app = Starlette(routes=route_list)
    app.state.config = config
    app.state.lab = state
    return FaultMiddleware(app, config, state)
