"""Per-request fault knobs, shared by every lab endpoint.

Knobs are query parameters, so a test (or a person with curl) can ask any
endpoint to misbehave:

  delay=MS          answer after MS milliseconds (adds to the instance latency)
  stall=S           send nothing at all for S seconds (0: until the client leaves)
  status=CODE       answer CODE instead (e.g. 500, 502, 503, 429) with a JSON message; on an
                    event stream a 2xx other than 200 and 204 (205, 210, 299) serves the stream
                    itself under that status
  retry_after=S     with status or ratelimit: add `Retry-After: S`, written as given (1e300, nan, -5)
  ratelimit=1       answer 403 with x-ratelimit-remaining: 0 and a reset time
  reset_in=S        with ratelimit: the reset is S seconds away (default 60)
  reset_past=1      with ratelimit: the reset was an hour ago
  fail_times=N      apply the answer-replacing knobs (status, ratelimit, invalid_json, bomb,
                    nested, location) only to the first N requests for this path and its other
                    parameters, then answer normally
  invalid_json=1    answer 200 with a body that is not JSON

Hostile answers, for the client's defences (bodies in hostile.py):

  bomb=gzip|gzip2|deflate  a 200 whose small compressed body expands to bomb_mb MiB (gzip2:
                    gzip inside gzip, `Content-Encoding: gzip, gzip`); on an event stream it
                    is `text/event-stream` with a Content-Encoding
  bomb_mb=N         the expanded size in MiB (default 64, at most 4096)
  bomb_fill=F       what it expands to: JSON endpoints `array` ([0,0,...], default) or `space`
                    (whitespace, then []); event streams `data` (`data: 000...` lines, one
                    event, default), `blank` (empty lines) or `line` (one endless `data:` line)
  nested=N          a 200 JSON body nested N deep (at most 10,000,000); on an event stream
                    one event whose data is that JSON
  nested_kind=K     `array` ([[[...]]], default) or `object` ({"a":{"a":...}})
  json_number=V     every number under hostile.NUMBER_KEYS (stargazers_count, id, priority,
                    observedValue, ...) in a JSON body or event data becomes V: `1e400`, `nan`
                    (bare NaN), `inf` (bare Infinity), `-inf`, `bigint` (5,000 digits) or any
                    literal JSON number
  hostile_text=1    titles, messages, descriptions, names, reasons and tags hold ESC and C1
                    sequences, bidi overrides and isolates, zero-width characters, NUL, DEL,
                    Rich markup and a URL with credentials; html_url, click and homepage get
                    `admin:hunter2@` and an OSC 8 escape (event `event:` types too)
  location=V        a redirect (302, or status= if it is a 3xx) whose Location is broken: `bad`
                    (http://[bad), `ctrl` (ESC, BEL, C1 CSI and U+202E as raw bytes), `scheme`
                    (javascript:), `empty`, `creds` (user:password@), `port` (99999), `huge`
                    (64 KiB), `loop` (this very URL) or any other value as given

Endpoint knobs that cycles use too: events.py (retry, retry_digits, close_after, data_lines,
blank_lines, ...), notifications.py (poll_interval), github_api.py (escape_link, link_origin).

Knobs for URLs that cannot take a query (a GitHub base URL): `/_knobs/K=V&K=V/PATH` is PATH
with those knobs (the request's own query parameters win). GitHub Link headers keep the prefix.

  cycle=NAME        every request gets the next entry of a fixed list of faults (FAULTS): NAME
                    is one of CYCLES (sse, health, repos, notifications) or a comma list of
                    FAULTS names. The entry's knobs win over the request's. Each cycle and tag=
                    counts on its own; the lab's request log records the fault each request got.
  tag=T             ignored by the answer: names a client in the request log and in cycle counts

Everything is listed, with the cycles, by `GET /`. The middleware is plain ASGI so that
streaming responses pass through untouched (a response is only rewritten when a knob asks).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from urllib.parse import parse_qsl, unquote, urlencode

from .hostile import BadKnob, bomb, bomb_knobs, location, nested, nested_knobs, number_token, spoil_json, spoil_stream
from .state import LabConfig, LabState, RequestRecord

FAULT_KEYS = frozenset(
    {
        "delay",
        "stall",
        "status",
        "retry_after",
        "ratelimit",
        "reset_in",
        "reset_past",
        "fail_times",
        "invalid_json",
        "bomb",
        "bomb_mb",
        "bomb_fill",
        "nested",
        "nested_kind",
        "json_number",
        "hostile_text",
        "location",
        "cycle",
        "tag",
    }
)
REPLACING = ("status", "ratelimit", "invalid_json", "bomb", "nested", "location")  # knobs that answer instead
PREFIX = "/_knobs/"
STREAM_PATH = re.compile(r"/events|/firehose|/ntfy/[^/]+/sse")  # events.py's event streams
JSON = b"application/json; charset=utf-8"
EVENT_STREAM = b"text/event-stream; charset=utf-8"

# (knob, endpoints, effect): for GET / and the docs
KNOBS: list[tuple[str, str, str]] = [
    ("delay=MS", "all", "answer after MS milliseconds"),
    ("stall=S", "all", "send nothing for S seconds (0: until the client leaves)"),
    ("status=CODE", "all", "answer CODE with a JSON message; streams: 205/210/299 serve the stream under it"),
    ("retry_after=S", "all (with status, ratelimit)", "Retry-After: S, written as given"),
    ("ratelimit=1", "all", "403, x-ratelimit-remaining: 0"),
    ("reset_in=S", "all (with ratelimit)", "x-ratelimit-reset S seconds away (default 60)"),
    ("reset_past=1", "all (with ratelimit)", "x-ratelimit-reset an hour ago"),
    ("fail_times=N", "all", "answer-replacing knobs only for the first N requests"),
    ("invalid_json=1", "all", "200 with a body that is not JSON"),
    ("bomb=gzip|gzip2|deflate", "all", "200 with a compressed body expanding to bomb_mb MiB (gzip2: gzip, gzip)"),
    ("bomb_mb=N", "all (with bomb)", "expanded size in MiB, default 64, at most 4096"),
    ("bomb_fill=F", "all (with bomb)", "JSON: array|space; event streams: data|blank|line"),
    ("nested=N", "all", "200 JSON (streams: one event's data) nested N deep"),
    ("nested_kind=array|object", "all (with nested)", '[[[...]]] or {"a":{"a":...}}'),
    (
        "json_number=1e400|nan|inf|-inf|bigint|NUMBER",
        "JSON bodies and event data",
        "counts, ids, priorities, times, observedValue become that bare token",
    ),
    (
        "hostile_text=1",
        "JSON bodies and event data",
        "text holds ESC/C1 sequences, bidi, zero-width, NUL, DEL, markup, admin:hunter2@ URLs",
    ),
    ("location=bad|ctrl|scheme|empty|creds|port|huge|loop|URL", "all", "302 (or status=3xx) with that Location"),
    ("cycle=NAME|F1,F2,...", "all", "each request gets the next fault of a fixed list (GET / lists them)"),
    ("tag=T", "all", "names the client in the request log and in cycle counts"),
    ("/_knobs/K=V&.../PATH", "all", "PATH with those knobs (for base URLs); Link headers keep it"),
    ("retry=VALUE", "/events, /ntfy/{topic}/sse", "`retry: VALUE` first, as given"),
    ("retry_digits=N", "/events, /ntfy/{topic}/sse", "`retry: 999...` with N digits first"),
    ("close_after=N", "/events, /ntfy/{topic}/sse", "end the stream after N events (0: after the opening)"),
    ("data_lines=N", "/events, /ntfy/{topic}/sse", "N empty `data:` lines, then a blank line, first"),
    ("blank_lines=N", "/events, /ntfy/{topic}/sse", "N blank lines first"),
    ("poll_interval=X", "/notifications", "X-Poll-Interval: X, written as given"),
    ("escape_link=1", "GitHub lists", "Link URLs whose path holds %1B]0;pwned%07, U+202E, U+200B; always a next"),
]

# Named faults for cycle=: each is a set of knobs. close_after ends a stream that is served (a
# cycle moves on when the client reconnects) and is ignored by the other endpoints.
FAULTS: dict[str, dict[str, str]] = {
    "ok": {},
    "ok_stream": {"close_after": "5"},
    "gzip_bomb": {"bomb": "gzip"},
    "gzip2_bomb": {"bomb": "gzip2"},
    "deflate_bomb": {"bomb": "deflate"},
    "space_bomb": {"bomb": "gzip", "bomb_fill": "space"},
    "blank_bomb": {"bomb": "gzip", "bomb_fill": "blank"},
    "line_bomb": {"bomb": "deflate", "bomb_fill": "line"},
    "nested_array": {"nested": "100000"},
    "nested_object": {"nested": "100000", "nested_kind": "object"},
    "number_1e400": {"json_number": "1e400", "close_after": "5"},
    "number_nan": {"json_number": "nan", "close_after": "5"},
    "number_inf": {"json_number": "inf", "close_after": "5"},
    "number_bigint": {"json_number": "bigint", "close_after": "5"},
    "hostile_text": {"hostile_text": "1", "close_after": "5"},
    "escape_link": {"escape_link": "1"},
    "bad_location": {"location": "bad"},
    "ctrl_location": {"location": "ctrl"},
    "redirect_loop": {"location": "loop"},
    "status_500": {"status": "500"},
    "status_502_retry_junk": {"status": "502", "retry_after": "soon"},
    "status_503_retry_nan": {"status": "503", "retry_after": "nan"},
    "status_429_retry_negative": {"status": "429", "retry_after": "-5"},
    "status_204": {"status": "204"},
    "status_205": {"status": "205", "close_after": "5"},
    "status_210": {"status": "210", "close_after": "5"},
    "status_299": {"status": "299", "close_after": "5"},
    "invalid_json": {"invalid_json": "1"},
    "stall": {"stall": "3"},
    "ratelimit_soon": {"ratelimit": "1", "reset_in": "1"},
    "ratelimit_past": {"ratelimit": "1", "reset_past": "1"},
    "poll_tiny": {"poll_interval": "0.000001"},
    "poll_nan": {"poll_interval": "nan"},
    "poll_negative": {"poll_interval": "-5"},
    "retry_storm": {"retry": "0", "close_after": "0"},
    "data_lines": {"data_lines": "1000000", "close_after": "1"},
    "blank_lines": {"blank_lines": "1000000", "close_after": "1"},
    "retry_junk": {"retry": "-1", "malformed": "1", "bad_json": "1", "close_after": "5"},
    "cut_mid": {"cut_after": "3", "cut_mid": "1"},
    "stall_stream": {"stall_stream": "1"},
    # long waits: last in a cycle, since a client that obeys them (clamped) waits from then on
    "status_503_retry_huge": {"status": "503", "retry_after": "1e300"},
    "ratelimit_far": {"ratelimit": "1", "reset_in": "1e300"},
    "poll_huge": {"poll_interval": "1e300"},
    "retry_digits": {"retry_digits": "5000", "close_after": "3"},
}


def _between(good: str, faults: list[str], last: list[str]) -> list[str]:
    """Each fault after a well-behaved answer (so backoff starts afresh), then `last`.

    A storm's entries stay together: its point is many bad answers in a row."""
    cycle: list[str] = []
    for name in faults:
        cycle += [name] if name == "retry_storm" and cycle[-1:] == [name] else [good, name]
    return cycle + last


# cheap faults first (a short run sees many), the heavy ones (bombs, nesting) after them
_CHEAP = [
    "number_1e400",
    "number_nan",
    "number_inf",
    "number_bigint",
    "hostile_text",
    "bad_location",
    "ctrl_location",
    "redirect_loop",
    "status_500",
    "status_503_retry_nan",
    "status_429_retry_negative",
    "status_205",
    "status_210",
    "status_299",
]
_HEAVY = ["nested_array", "nested_object", "gzip_bomb", "gzip2_bomb", "deflate_bomb"]
_GITHUB = ["escape_link", "status_502_retry_junk", "invalid_json", "stall", "ratelimit_soon", "ratelimit_past"]
CYCLES: dict[str, list[str]] = {
    "sse": _between(
        "ok_stream",
        [
            *_CHEAP,
            *["retry_storm"] * 10,
            "data_lines",
            "blank_lines",
            "retry_junk",
            "cut_mid",
            "stall_stream",
            "status_204",
            *_HEAVY,
            "blank_bomb",
            "line_bomb",
        ],
        ["status_503_retry_huge", "retry_digits"],
    ),
    "health": _between(
        "ok", [*_CHEAP, "status_204", "invalid_json", "stall", *_HEAVY, "space_bomb"], ["status_503_retry_huge"]
    ),
    "repos": _between("ok", [*_CHEAP, *_GITHUB, *_HEAVY, "space_bomb"], ["status_503_retry_huge", "ratelimit_far"]),
    "notifications": _between(
        "ok",
        [*_CHEAP, *_GITHUB, "poll_tiny", "poll_nan", "poll_negative", *_HEAVY, "space_bomb"],
        ["status_503_retry_huge", "ratelimit_far", "poll_huge"],
    ),
}


def knobs(scope) -> dict[str, str]:
    """A request's knobs: its /_knobs/ prefix's, its query parameters and its cycle entry's."""
    found = scope.get("lab.knobs")
    if found is None:
        found = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    return found


def flag(value: str | None) -> bool:
    """A new-style flag knob: present and not 0/false/no."""
    return value is not None and value.lower() not in ("", "0", "false", "no")


def cycle_names(value: str) -> list[str]:
    if value in CYCLES:
        return CYCLES[value]
    names = [name.strip() for name in value.split(",")]
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        raise BadKnob(f"cycle is one of {', '.join(CYCLES)} or a comma list of faults; unknown: {unknown[0][:40]}")
    return names


def _num(params: dict[str, str], key: str, default: float = 0.0) -> float:
    try:
        return float(params.get(key, default))
    except ValueError:
        return default


def _strip_prefix(scope) -> tuple[dict, dict[str, str]]:
    """The scope without a /_knobs/K=V.../ prefix (kept raw in scope["lab.prefix"]) and its knobs."""
    raw = scope.get("raw_path") or scope["path"].encode()
    if not raw.startswith(PREFIX.encode()):
        return scope, {}
    segment, _, rest = raw[len(PREFIX) :].partition(b"/")
    rest = b"/" + rest
    prefix = (PREFIX.encode() + segment).decode("latin-1")
    stripped = {**scope, "path": unquote(rest.decode("latin-1")), "raw_path": rest, "lab.prefix": prefix}
    return stripped, dict(parse_qsl(segment.decode("latin-1"), keep_blank_values=True))


async def _send_simple(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], ctype: bytes = JSON) -> None:
    if status in (204, 304) or status < 200:
        body = b""  # these statuses carry no body; sending one breaks HTTP/1.1 framing
        headers = list(headers)
    else:
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _wait_disconnect(receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class _Rewrite:
    """Wraps `send` to change a response on its way out: its status, a JSON body (held until
    complete, then sent with a new Content-Length) or event-stream chunks (as they go)."""

    def __init__(self, send, status: int | None, token: bytes | None, text: bool) -> None:
        self.send, self.status, self.token, self.text = send, status, token, text
        self.start: dict | None = None
        self.held: list[bytes] = []
        self.stream = False

    async def __call__(self, message) -> None:
        if message["type"] == "http.response.start":
            await self._start(message)
        elif message["type"] == "http.response.body" and self.start is not None:
            self.held.append(message.get("body", b""))
            if not message.get("more_body"):
                body = spoil_json(b"".join(self.held), self.token, self.text)
                headers = [(k, v) for k, v in self.start["headers"] if k.lower() != b"content-length"]
                await self.send({**self.start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
                await self.send({"type": "http.response.body", "body": body})
        elif message["type"] == "http.response.body" and self.stream and message.get("body"):
            await self.send({**message, "body": spoil_stream(message["body"], self.token, self.text)})
        else:
            await self.send(message)

    async def _start(self, message) -> None:
        if self.status is not None:
            message = {**message, "status": self.status}
        ctype = next((v for k, v in message.get("headers", []) if k.lower() == b"content-type"), b"")
        spoiling = self.token is not None or self.text
        self.stream = spoiling and b"event-stream" in ctype
        if spoiling and b"json" in ctype and message["status"] not in (204, 304):
            self.start = message  # sent with the body, once its new length is known
            return
        await self.send(message)


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
        try:
            inner, params, fault = self._knobs(scope, query)
        except BadKnob as exc:
            self._record(scope, query, "")
            await _send_simple(send, 400, json.dumps({"message": f"bad lab knob: {exc}"}).encode(), [])
            return
        self._record(scope, query, fault)
        try:
            await self._answer(inner, params, receive, send)
        except BadKnob as exc:
            await _send_simple(send, 400, json.dumps({"message": f"bad lab knob: {exc}"}).encode(), [])

    def _record(self, scope, query: str, fault: str) -> None:
        self.state.record_request(
            RequestRecord(
                method=scope["method"],
                path=scope["path"],
                query=query,
                headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
                time=time.time(),
                fault=fault,
            )
        )

    def _knobs(self, scope, query: str) -> tuple[dict, dict[str, str], str]:
        """(the scope the app sees, the request's knobs, the cycle's fault name or "")."""
        inner, params = _strip_prefix(scope)
        params.update(parse_qsl(query, keep_blank_values=True))
        fault = ""
        if "cycle" in params:
            names = cycle_names(params["cycle"])
            turn = self.state.bump(f"cycle:{params['cycle']}:{params.get('tag', '')}")
            fault = names[(turn - 1) % len(names)]
            params.update(FAULTS[fault])
        inner["lab.knobs"] = params
        return inner, params, fault

    async def _answer(self, scope, params: dict[str, str], receive, send) -> None:
        delay = self.config.latency_ms / 1000 + _num(params, "delay") / 1000
        if delay > 0:
            await asyncio.sleep(delay)

        if "stall" in params:
            stall = _num(params, "stall")
            waiter = asyncio.ensure_future(_wait_disconnect(receive))
            try:
                await asyncio.wait_for(asyncio.shield(waiter), stall if stall > 0 else None)
                return  # the client gave up while we stalled
            except TimeoutError:
                waiter.cancel()

        stream = STREAM_PATH.fullmatch(scope["path"]) is not None
        replacing = [k for k in REPLACING if k in params]
        if replacing and "fail_times" in params:
            rest = urlencode(sorted((k, v) for k, v in params.items() if k not in FAULT_KEYS))
            seen = self.state.bump(f"fail_times:{scope['path']}?{rest}")
            replacing = replacing if seen <= int(_num(params, "fail_times")) else []
        status = None
        if replacing == ["status"] and stream and 200 < int(_num(params, "status", 500)) < 300:
            status = int(_num(params, "status"))  # the stream itself, under an odd 2xx
            replacing = []
        if replacing:
            authorized = any(k == b"authorization" for k, _ in scope["headers"])
            await self._fault(scope, params, send, authorized, stream)
            return
        token = number_token(params["json_number"]) if "json_number" in params else None
        if status is not None or token is not None or flag(params.get("hostile_text")):
            send = _Rewrite(send, status, token, flag(params.get("hostile_text")))
        await self.app(scope, receive, send)

    async def _fault(self, scope, params: dict[str, str], send, authorized: bool, stream: bool) -> None:
        if params.get("ratelimit"):
            await self._rate_limited(params, send, authorized)
            return
        if params.get("invalid_json"):
            await _send_simple(send, 200, b'{"this is": not json', [])
            return
        ctype = EVENT_STREAM if stream else JSON
        if "bomb" in params:
            encoding, mebibytes, fill = bomb_knobs(params, stream)
            body = await asyncio.get_running_loop().run_in_executor(None, bomb, encoding, mebibytes, fill)
            content_encoding = {"gzip2": b"gzip, gzip"}.get(encoding, encoding.encode())
            await _send_simple(send, 200, body, [(b"content-encoding", content_encoding)], ctype)
            return
        if "nested" in params:
            depth, kind = nested_knobs(params)
            body = nested(depth, kind)
            await _send_simple(send, 200, b"data: " + body + b"\n\n" if stream else body, [], ctype)
            return
        status = int(_num(params, "status", 500))
        headers = []
        if "retry_after" in params:
            headers.append((b"retry-after", params["retry_after"].encode()))
        if "location" in params:
            own = (scope.get("lab.prefix", "") + scope["path"]).encode() + b"?" + scope.get("query_string", b"")
            headers.append((b"location", location(params["location"], own)))
            status = status if 300 <= status < 400 else 302
        body = json.dumps({"message": f"lab fault: status {status}"}).encode()
        await _send_simple(send, status, body, headers)

    async def _rate_limited(self, params: dict[str, str], send, authorized: bool) -> None:
        reset = time.time() - 3600 if flag(params.get("reset_past")) else time.time() + _num(params, "reset_in", 60)
        reset_text = str(int(reset)) if math.isfinite(reset) else params["reset_in"]  # inf, nan: as given
        limit = str(self.config.rate_limit if authorized else 60).encode()
        body = json.dumps(
            {
                "message": "API rate limit exceeded (lab fault)",
                "documentation_url": "https://docs.github.com/rest/rate-limit",
            }
        ).encode()
        headers = [
            (b"x-ratelimit-limit", limit),
            (b"x-ratelimit-remaining", b"0"),
            (b"x-ratelimit-used", limit),
            (b"x-ratelimit-reset", reset_text.encode()),
            (b"x-ratelimit-resource", b"core"),
        ]
        if "retry_after" in params:
            headers.append((b"retry-after", params["retry_after"].encode()))
        await _send_simple(send, 403, body, headers)
