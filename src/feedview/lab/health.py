"""Lab endpoints: health documents in the IETF health-check draft's shape, or another format's.

GET /health/{name} answers `application/health+json` (draft-inadarei-api-health-check):
`status` pass/warn/fail (HTTP 200 for pass and warn, 503 for fail), `version`,
`releaseId`, `serviceId`, `description`, `checks` and, when not passing, `output`.

`format=` serves the same pass/warn/fail in another format's shape, status codes and
media type (a format without a warn state answers warn as pass):

  ietf          the default above
  spring        Spring Boot Actuator: UP / UNKNOWN / DOWN (503), `components`
  microprofile  MicroProfile Health: UP / UP / DOWN (503), `checks` list
  aspnet        ASP.NET Core's default writer, text/plain: Healthy / Degraded / Unhealthy (503)
  aspnet-json   the same as JSON (HealthChecks.UI's writer): `status`, `totalDuration`, `entries`
  elastic       Elasticsearch cluster health: green / yellow / red, always 200
  terminus      Terminus (NestJS): ok / ok / error (503), `info`, `error`, `details`
  k8s           Kubernetes /healthz: text `ok` / `ok` / HTTP 500 with the verbose `[-]` report
  vault         Vault /v1/sys/health: active (200) / DR secondary (472) / sealed (503)
  consul        Consul agent service health: passing (200) / warning (429) / critical (503)

A few names have preset behaviour for `feedview demo`; any other name passes at once.
Query parameters override the preset:

  latency_ms=MS   answer after MS milliseconds (a client that leaves ends the wait)
  fail_rate=R     fail this fraction of requests (0..1), decided by LabConfig.seed and
                  the name's request counter: the same run of answers every time
  flap=S          pass for S seconds, fail for S seconds, and so on (from the lab's start)
  pattern=PWF     per-request script, repeating: p pass, w warn, f fail (by the name's counter)
  report=STATUS   always report pass, warn or fail (`status=` is the generic fault knob)
  format=NAME     answer in that format's shape (above)

LabState.counters: `health:{name}` requests so far per name, `health:in_flight` answers
still being prepared (a closed client must bring it back to 0).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .state import LabConfig, LabState

MEDIA_TYPE = "application/health+json"
STATUSES = ("pass", "warn", "fail")


@dataclass(frozen=True)
class Behaviour:
    latency_ms: float = 0.0
    latency_spread_ms: float = 0.0  # each answer adds 0..spread, by seed and counter
    fail_rate: float = 0.0
    flap_s: float | None = None
    pattern: str = ""
    report: str | None = None
    format: str = "ietf"
    what: str = "passes at once"


PRESETS: dict[str, Behaviour] = {
    "api": Behaviour(latency_ms=3, what="always passes, quickly"),
    "search": Behaviour(latency_ms=400, latency_spread_ms=500, what="slow: 400-900 ms"),
    "payments": Behaviour(latency_ms=20, flap_s=15, what="flaps: 15 s up, 15 s down"),
    "legacy": Behaviour(latency_ms=10, report="fail", what="always fails (503)"),
}

ENDPOINTS: list[tuple[str, str]] = [
    (
        "/health/{name}",
        "health document (IETF draft); ?latency_ms= fail_rate= flap=S pattern=pwf report=warn format=spring|...",
    ),
    *((f"/health/{name}", f"preset: {b.what}") for name, b in PRESETS.items()),
]


class BadKnob(ValueError):
    pass


def routes(config: LabConfig, state: LabState) -> list[Route]:
    started = time.monotonic()

    async def health(request: Request) -> Response:
        name = request.path_params["name"][:64]
        try:
            behaviour = _behaviour(PRESETS.get(name, Behaviour()), request.query_params)
        except BadKnob as exc:
            body = json.dumps({"message": f"bad health knob: {exc}"}).encode()
            return Response(body, status_code=400, media_type="application/json")
        count = state.bump(f"health:{name}")
        draw = random.Random(f"{config.seed}:{name}:{count}")
        latency_ms = behaviour.latency_ms + behaviour.latency_spread_ms * draw.random()
        state.bump("health:in_flight")
        try:
            if latency_ms > 0 and await _client_left_during(request, latency_ms / 1000):
                return Response(status_code=499)  # nobody is listening any more
        finally:
            state.bump("health:in_flight", -1)
        status = _status(behaviour, count, draw.random(), time.monotonic() - started)
        if behaviour.format == "ietf":
            document = _document(name, status, latency_ms, time.monotonic() - started, config.seed)
            code, media_type, body = (503 if status == "fail" else 200), MEDIA_TYPE, json.dumps(document).encode()
        else:
            code, media_type, body = FORMATS[behaviour.format](name, status)
        return Response(body, status_code=code, media_type=media_type, headers={"cache-control": "no-cache"})

    return [Route("/health/{name}", health, methods=["GET", "HEAD"])]


def _behaviour(preset: Behaviour, params) -> Behaviour:
    knobs: dict[str, Any] = {}
    try:
        if "latency_ms" in params:
            knobs["latency_ms"] = _bounded(float(params["latency_ms"]), 0, 3_600_000, "latency_ms")
            knobs["latency_spread_ms"] = 0.0
        if "fail_rate" in params:
            knobs["fail_rate"] = _bounded(float(params["fail_rate"]), 0, 1, "fail_rate")
        if "flap" in params:
            knobs["flap_s"] = _bounded(float(params["flap"]), 0.001, 86_400, "flap")
    except ValueError as exc:
        raise BadKnob(str(exc)) from None
    if "pattern" in params:
        pattern = params["pattern"].lower()
        if not pattern or set(pattern) - set("pwf"):
            raise BadKnob("pattern takes the letters p (pass), w (warn) and f (fail)")
        knobs["pattern"] = pattern
    if "report" in params:
        if params["report"] not in STATUSES:
            raise BadKnob("report is pass, warn or fail")
        knobs["report"] = params["report"]
    if "format" in params:
        if params["format"] != "ietf" and params["format"] not in FORMATS:
            raise BadKnob(f"format is one of ietf, {', '.join(FORMATS)}")
        knobs["format"] = params["format"]
    if not knobs:
        return preset
    # a knob replaces the preset's way of deciding the status, not only its own field
    deciding: dict[str, Any] = {"fail_rate": 0.0, "flap_s": None, "pattern": "", "report": None}
    if any(k in knobs for k in deciding):
        knobs = {**deciding, **knobs}
    return replace(preset, **knobs)


def _bounded(value: float, low: float, high: float, name: str) -> float:
    if not low <= value <= high:
        raise BadKnob(f"{name} must be from {low:g} to {high:g}")
    return value


def _status(behaviour: Behaviour, count: int, draw: float, uptime_s: float) -> str:
    if behaviour.report:
        return behaviour.report
    if behaviour.pattern:
        letter = behaviour.pattern[(count - 1) % len(behaviour.pattern)]
        return {"p": "pass", "w": "warn", "f": "fail"}[letter]
    if behaviour.flap_s is not None and int(uptime_s // behaviour.flap_s) % 2 == 1:
        return "fail"
    if draw < behaviour.fail_rate:
        return "fail"
    return "pass"


def _document(name: str, status: str, latency_ms: float, uptime_s: float, seed: int) -> dict:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    document = {
        "status": status,
        "version": "1",
        "releaseId": f"1.0.{seed}",
        "serviceId": f"lab-{name}",
        "description": f"feed lab service {name!r}",
        "checks": {
            "uptime": [
                {
                    "componentType": "system",
                    "observedValue": round(uptime_s, 3),
                    "observedUnit": "s",
                    "status": "pass",
                    "time": now,
                }
            ],
            f"{name}:responseTime": [
                {
                    "componentType": "component",
                    "observedValue": round(latency_ms, 1),
                    "observedUnit": "ms",
                    "status": status,
                    "time": now,
                }
            ],
        },
        "links": {"about": "https://datatracker.ietf.org/doc/draft-inadarei-api-health-check/"},
    }
    if status != "pass":
        document["output"] = {"warn": "degraded (lab)", "fail": "unavailable (lab)"}[status]
    return document


# --- the other formats: (name, pass/warn/fail) -> (HTTP status, media type, body) -------

Rendered = tuple[int, str, bytes]
JSON = "application/json"


def _json(code: int, document: object, media_type: str = JSON) -> Rendered:
    return code, media_type, json.dumps(document).encode()


def _spring(name: str, status: str) -> Rendered:
    word = {"pass": "UP", "warn": "UNKNOWN", "fail": "DOWN"}[status]
    document = {
        "status": word,
        "components": {name: {"status": word, "details": {"lab": True}}, "ping": {"status": "UP"}},
    }
    return _json(503 if status == "fail" else 200, document, "application/vnd.spring-boot.actuator.v3+json")


def _microprofile(name: str, status: str) -> Rendered:
    word = "DOWN" if status == "fail" else "UP"
    return _json(503 if status == "fail" else 200, {"status": word, "checks": [{"name": name, "status": word}]})


def _aspnet_word(status: str) -> str:
    return {"pass": "Healthy", "warn": "Degraded", "fail": "Unhealthy"}[status]


def _aspnet(name: str, status: str) -> Rendered:
    return 503 if status == "fail" else 200, "text/plain", _aspnet_word(status).encode()


def _aspnet_json(name: str, status: str) -> Rendered:
    word = _aspnet_word(status)
    entry = {"data": {}, "duration": "00:00:00.0012000", "status": word, "tags": ["lab"]}
    document = {"status": word, "totalDuration": "00:00:00.0015000", "entries": {name: entry}}
    return _json(503 if status == "fail" else 200, document)


def _elastic(name: str, status: str) -> Rendered:
    colour = {"pass": "green", "warn": "yellow", "fail": "red"}[status]
    unassigned = {"pass": 0, "warn": 1, "fail": 2}[status]
    document = {
        "cluster_name": f"lab-{name}",
        "status": colour,
        "timed_out": False,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": 2 - (status == "fail"),
        "active_shards": 2,
        "unassigned_shards": unassigned,
        "active_shards_percent_as_number": 100.0 - 25.0 * unassigned,
    }
    return _json(200, document)  # Elasticsearch answers 200 whatever the colour


def _terminus(name: str, status: str) -> Rendered:
    if status == "fail":
        failure = {name: {"status": "down", "message": "unavailable (lab)"}}
        return _json(503, {"status": "error", "info": {}, "error": failure, "details": failure})
    up = {name: {"status": "up"}}
    return _json(200, {"status": "ok", "info": up, "error": {}, "details": up})


def _k8s(name: str, status: str) -> Rendered:
    if status == "fail":
        report = f"[+]ping ok\n[+]log ok\n[-]{name} failed: reason withheld\nhealthz check failed\n"
        return 500, "text/plain; charset=utf-8", report.encode()
    return 200, "text/plain; charset=utf-8", b"ok"


def _vault(name: str, status: str) -> Rendered:
    document = {
        "initialized": True,
        "sealed": status == "fail",
        "standby": False,
        "performance_standby": False,
        "replication_performance_mode": "disabled",
        "replication_dr_mode": "secondary" if status == "warn" else "disabled",
        "server_time_utc": 1_700_000_000,
        "version": "1.15.0",
        "cluster_name": f"lab-{name}",
    }
    return _json({"pass": 200, "warn": 472, "fail": 503}[status], document)


def _consul(name: str, status: str) -> Rendered:
    word = {"pass": "passing", "warn": "warning", "fail": "critical"}[status]
    check = {
        "Node": "lab",
        "CheckID": f"service:{name}",
        "Name": f"Service '{name}' check",
        "Status": word,
        "Output": "" if status == "pass" else f"{word} (lab)",
        "ServiceID": name,
        "ServiceName": name,
    }
    document = {"AggregatedStatus": word, "Service": {"ID": name, "Service": name, "Port": 80}, "Checks": [check]}
    return _json({"pass": 200, "warn": 429, "fail": 503}[status], document)


FORMATS = {
    "spring": _spring,
    "microprofile": _microprofile,
    "aspnet": _aspnet,
    "aspnet-json": _aspnet_json,
    "elastic": _elastic,
    "terminus": _terminus,
    "k8s": _k8s,
    "vault": _vault,
    "consul": _consul,
}


async def _client_left_during(request: Request, seconds: float) -> bool:
    """Wait `seconds`, or less if the client disconnects first; True if it did."""

    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(disconnected())
    try:
        done, _ = await asyncio.wait({watcher}, timeout=seconds)
        return bool(done)
    finally:
        watcher.cancel()
