"""Per-request fault knobs, shared by every lab endpoint.

Knobs are query parameters, so a test (or a person with curl) can ask any
endpoint to misbehave:

  delay=MS          answer after MS milliseconds (adds to the instance latency)
  stall=S           send nothing at all for S seconds (0: until the client leaves)
  status=CODE       answer CODE instead (e.g. 500, 502, 503, 429) with a JSON message
  retry_after=S     with status: add `Retry-After: S`
  ratelimit=1       answer 403 with x-ratelimit-remaining: 0 and a reset time
  reset_in=S        with ratelimit: the reset is S seconds away (default 60)
  fail_times=N      apply status/ratelimit/invalid_json only to the first N requests
                    for this path and its other parameters, then answer normally
  invalid_json=1    answer 200 with a body that is not JSON

The middleware is plain ASGI so that streaming responses pass through untouched.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qsl, urlencode

from .state import LabConfig, LabState, RequestRecord

FAULT_KEYS = frozenset(
    {"delay", "stall", "status", "retry_after", "ratelimit", "reset_in", "fail_times", "invalid_json"}
)


def _num(params: dict[str, str], key: str, default: float = 0.0) -> float:
    try:
        return float(params.get(key, default))
    except ValueError:
        return default


async def _send_simple(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    if status in (204, 304) or status < 200:
        body = b""  # these statuses carry no body; sending one breaks HTTP/1.1 framing
        headers = list(headers)
    else:
        headers = [(b"content-type", b"application/json; charset=utf-8"),
                   (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _wait_disconnect(receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class FaultMiddleware:
    def __init__(self, app, config: LabConfig, state: LabState) -> None:
        self.app = app
        self.config = config
        self.state = state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        params = dict(parse_qsl(query, keep_blank_values=True))
        self.state.record_request(
            RequestRecord(
                method=scope["method"],
                path=scope["path"],
                query=query,
                headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
                time=time.time(),
            )
        )

        delay = self.config.latency_ms / 1000 + _num(params, "delay") / 1000
        if delay > 0:
            await asyncio.sleep(delay)

        if "stall" in params:
            stall = _num(params, "stall")
            waiter = asyncio.ensure_future(_wait_disconnect(receive))
            try:
                await asyncio.wait_for(asyncio.shield(waiter), stall if stall > 0 else None)
                return  # the client gave up while we stalled
            except asyncio.TimeoutError:
                waiter.cancel()

        faulty = any(k in params for k in ("status", "ratelimit", "invalid_json"))
        if faulty and "fail_times" in params:
            rest = urlencode(sorted((k, v) for k, v in params.items() if k not in FAULT_KEYS))
            seen = self.state.bump(f"fail_times:{scope['path']}?{rest}")
            faulty = seen <= int(_num(params, "fail_times"))
        if faulty:
            authorized = any(k == b"authorization" for k, _ in scope["headers"])
            await self._fault(params, send, authorized)
            return
        await self.app(scope, receive, send)

    async def _fault(self, params: dict[str, str], send, authorized: bool) -> None:
        if params.get("ratelimit"):
            reset = int(time.time() + _num(params, "reset_in", 60))
            limit = str(self.config.rate_limit if authorized else 60).encode()
            body = json.dumps({"message": "API rate limit exceeded (lab fault)",
                               "documentation_url": "https://docs.github.com/rest/rate-limit"}).encode()
            await _send_simple(send, 403, body, [
                (b"x-ratelimit-limit", limit),
                (b"x-ratelimit-remaining", b"0"),
                (b"x-ratelimit-used", limit),
                (b"x-ratelimit-reset", str(reset).encode()),
                (b"x-ratelimit-resource", b"core"),
            ])
            return
        if params.get("invalid_json"):
            await _send_simple(send, 200, b'{"this is": not json', [])
            return
        status = int(_num(params, "status", 500))
        headers = []
        if "retry_after" in params:
            headers.append((b"retry-after", params["retry_after"].encode()))
        body = json.dumps({"message": f"lab fault: status {status}"}).encode()
        await _send_simple(send, status, body, headers)
