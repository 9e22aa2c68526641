"""The lab's ASGI application: every endpoint module's routes behind the fault knobs."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import events, health, notifications, repos
from .faults import FaultMiddleware
from .state import LabConfig, LabState

MODULES = (repos, events, health, notifications)


def endpoints() -> list[tuple[str, str]]:
    return [e for m in MODULES for e in m.ENDPOINTS]


def build_app(config: LabConfig, state: LabState):
    async def index(request: Request) -> JSONResponse:
        return JSONResponse(
            {"name": "feedview lab", "endpoints": [{"path": p, "what": w} for p, w in endpoints()]}
        )

    route_list = [Route("/", index)]
    for module in MODULES:
        route_list.extend(module.routes(config, state))
    app = Starlette(routes=route_list)
    app.state.config = config
    app.state.lab = state
    return FaultMiddleware(app, config, state)
