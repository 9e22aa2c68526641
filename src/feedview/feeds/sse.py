"""Server-Sent Events: a spec-exact, resumable feed, ntfy-aware.

`sse_feed(url)` yields the events of one stream for as long as the consumer
wants them, with the connection's state in-band. It reconnects like the browser's
EventSource (after the server's `retry` time, sending `Last-Event-ID`), with two
deliberate differences: 5xx and 429 are retried with exponential backoff (and
`Retry-After`) instead of being final, and a connection that stays silent for
`idle_timeout` seconds counts as dropped. ntfy streams carry no `id:` lines; for
those the feed resumes with `since=<last message id>` and drops repeats by id.

The feed is total: whatever a server sends (a `retry: 0` and an instant close,
retry values of any length, compressed bombs, odd statuses or Location headers)
and however long it is down, the feed keeps its bounds: it never reconnects
sooner than `min_reconnect_s`, never waits longer than a day, never decodes a body
in more than 16 KiB pieces, lets the event loop run every few milliseconds, and
turns every failure into a FeedState (retrying, or a final error) with one clean
line that shows no header value and no URL credentials. Only cancellation escapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import re
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, NamedTuple
from urllib.request import getproxies  # (httpx imports it anyway)

import httpx
import msgspec

from ..text import one_line, redact
from .eventstream import DEFAULT_MAX_SIZE, Event, EventStreamDecoder, EventStreamError, SseEvent
from .limits import MAX_WAIT_S, MIN_RECONNECT_S, backoff, clamp, parse_int
from .state import FeedState
from .transport import BodyError, decoded_chunks, tls_context, trusts_nothing


class Notification(NamedTuple):
    """An event whose data is an ntfy-shaped message.

    Made from the id and topic alone (they decide what the event is and whether
    it was seen before); the other fields read `raw` when asked, checking types
    there: a panel shows a screenful while the feed makes thousands a second.
    """

    id: str
    topic: str
    event: SseEvent  # the raw event it came from
    raw: Mapping[str, Any]  # the parsed message

    @property
    def time(self) -> int:  # epoch seconds; 0 when absent or not a time
        value = self.raw.get("time", 0)
        return value if type(value) is int and 0 <= value <= MAX_EPOCH else 0

    @property
    def title(self) -> str:
        value = self.raw.get("title", "")
        return value if type(value) is str else ""

    @property
    def message(self) -> str:
        value = self.raw.get("message", "")
        return value if type(value) is str else ""

    @property
    def priority(self) -> int:  # 1 (min) .. 5 (max); 3 when absent
        value = self.raw.get("priority", 3)
        return value if type(value) is int and 1 <= value <= 5 else 3

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(_tags(self.raw.get("tags")))

    @property
    def click(self) -> str | None:
        value = self.raw.get("click")
        return value if type(value) is str and value else None


SseItem = SseEvent | Notification | FeedState

BATCH_BYTES = 16 * 1024  # the decoder's bite: the most decoded body bytes handled between two checks
PAUSE_EVERY_S = 0.005  # the event loop runs at least this often (plus one bite) however costly the bytes
MAX_EPOCH = 253_402_300_799  # 9999-12-31 23:59:59 UTC: a larger "time" is not a time
# What a JSON decoder can raise on hostile data: msgspec raises RecursionError (not a
# DecodeError) for nesting about a thousand levels deep.
_UNDECODABLE = (msgspec.DecodeError, RecursionError)
# Failures of the network or of the server's HTTP, worth another try (anything else is final)
_TRANSIENT = (httpx.TransportError, OSError, EOFError)

# ntfy's own control events: the stream is alive, nothing to show
NTFY_CONTROL = frozenset({"open", "keepalive", "poll_request"})


@dataclass(frozen=True)
class Tuning:
    """Knobs of the reconnection policy and the decoder's limits (all overridable)."""

    reconnect_s: float = 3.0  # the reconnection time until the server sends `retry:`
    backoff_max_s: float = 60.0  # repeated failures back off up to this (or the server's retry)
    jitter: float = 0.3  # repeated failures wait up to this fraction less, so clients spread out
    min_reconnect_s: float = MIN_RECONNECT_S  # no reconnection sooner, whatever `retry:` says (tests lower it)
    connect_timeout_s: float = 10.0
    max_size: int = DEFAULT_MAX_SIZE  # longest line, and most data in one event
    max_redirects: int = 10
    remembered_ids: int = 4096  # notification ids kept to drop repeats


class _Retry(Exception):
    def __init__(self, reason: str, not_before: float = 0.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_before = not_before


class _Final(Exception):
    def __init__(self, phase: str, reason: str) -> None:
        super().__init__(reason)
        self.phase = phase
        self.reason = reason


async def sse_feed(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    last_event_id: str = "",
    idle_timeout: float = 60.0,
    client: httpx.AsyncClient | None = None,
    **tuning: Any,
) -> AsyncGenerator[SseItem, None]:
    """Yield FeedState items and, for each event, a Notification or an SseEvent.

    `headers` go only to the stream's own origin (never across a redirect to
    another one). A caller's `client` is left open; one the feed creates is closed.
    `tuning`: the fields of `Tuning` (e.g. reconnect_s=0.01 in tests).
    """
    batches = sse_batches(url, headers=headers, last_event_id=last_event_id,
                          idle_timeout=idle_timeout, client=client, **tuning)
    async with contextlib.aclosing(batches):
        async for batch in batches:
            for item in batch:
                yield item


async def sse_batches(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    last_event_id: str = "",
    idle_timeout: float = 60.0,
    client: httpx.AsyncClient | None = None,
    interpret: Callable[[list[Event], _SeenIds], list] | None = None,
    **tuning: Any,
) -> AsyncGenerator[list, None]:
    """`sse_feed`, one list per batch of bytes received: for consumers that write in batches.

    interpret turns each batch of events into items (default: Notification or
    SseEvent; json_lines: the JSON lines of `feedview watch --json`). Each
    FeedState comes alone, in a list of its own.
    """
    interpret = interpret or _items
    secrets = header_secrets(headers)
    own_client = client is None
    try:
        opts = Tuning(**tuning)
        origin = _stream_url(url)
        timeout = httpx.Timeout(opts.connect_timeout_s, read=idle_timeout)
        if client is None:
            client = _new_client(timeout)
    except _Final as final:
        yield [_state("error", final.reason, secrets)]
        return
    except Exception as exc:  # an unknown option, proxy settings httpx refuses...
        yield [_state("error", f"cannot start: {_describe(exc)}", secrets)]
        return
    seen: _SeenIds = _SeenIds(opts.remembered_ids)
    retry_ms: int | None = None
    failures = 0
    try:
        while True:
            yield [FeedState("connecting", attempt=failures)]
            seen.resume()
            response = None
            try:
                try:
                    target = origin if last_event_id or not seen.last else _with_since(origin, seen.last)
                    response = await _open(client, target, origin, headers, last_event_id, timeout, opts)
                    yield [FeedState("open")]
                    decoder = EventStreamDecoder(last_event_id, opts.max_size)
                    malformed: EventStreamError | None = None
                    pause_at = time.monotonic() + PAUSE_EVERY_S
                    async for chunk in decoded_chunks(response, max_chunk=BATCH_BYTES):
                        # in slices: all of a batch's objects outlive the young-generation GC
                        # passes made while it is built; smaller batches were measured faster
                        try:
                            events = decoder.feed(chunk)
                        except EventStreamError as exc:  # what came before the broken limit still goes out
                            events, malformed = exc.events, exc
                        last_event_id = decoder.last_event_id
                        if decoder.retry is not None:
                            retry_ms = decoder.retry
                        if events:
                            items = interpret(events, seen)
                            if items:
                                failures = 0
                                yield items
                        if malformed is not None:
                            raise _Final("error", f"the stream is malformed: {malformed}")
                        if time.monotonic() >= pause_at:
                            # a chunk that dispatches nothing (blank lines, comments) awaits nothing:
                            # without this, a compressed stream of them would hold the loop for minutes
                            await asyncio.sleep(0)
                            pause_at = time.monotonic() + PAUSE_EVERY_S
                    reason, not_before = "the server ended the stream", 0.0
                finally:
                    if response is not None:
                        await response.aclose()
            except _Final as final:
                yield [_state(final.phase, final.reason, secrets)]
                return
            except BodyError as exc:
                yield [_state("error", f"cannot read the stream: {exc}", secrets)]
                return
            except _Retry as retry:
                reason, not_before = retry.reason, retry.not_before
            except httpx.ReadTimeout:
                reason, not_before = f"no data for {idle_timeout:g}s", 0.0
            except Exception as exc:  # the network's failures are retried; anything else (a bug) is final
                if not _transient(exc):
                    yield [_state("error", f"unexpected error: {_describe(exc)}", secrets)]
                    return
                reason, not_before = _describe(exc), 0.0
            failures += 1
            base = retry_ms / 1000 if retry_ms is not None else opts.reconnect_s
            delay = max(_reconnect_delay(base, failures, opts), not_before)
            yield [_state("retrying", reason, secrets, resume_at=time.time() + delay, attempt=failures)]
            await asyncio.sleep(delay)
    finally:
        if own_client and client is not None:
            await client.aclose()


def _state(phase: Any, reason: str, secrets: list[str], **fields: Any) -> FeedState:
    """A FeedState whose reason is one clean line showing no header value and no URL credentials."""
    return FeedState(phase, one_line(redact(reason, secrets)), **fields)


def header_secrets(headers: Mapping[str, str] | None) -> list[str]:
    """What no output may show (text.redact's secrets): each header value, and its last word
    (the token of "Bearer TOKEN")."""
    values = [value.strip() for value in (headers or {}).values() if isinstance(value, str) and value.strip()]
    return values + [value.split()[-1] for value in values if len(value.split()) > 1]


def _new_client(timeout: httpx.Timeout) -> httpx.AsyncClient:
    if getproxies():
        # proxies from the environment (HTTPS_PROXY, ...): httpx sets them up only when it
        # builds the transports itself, so it does, verifying TLS from the start
        return httpx.AsyncClient(timeout=timeout, verify=tls_context())
    # http:// goes through a transport whose TLS context trusts nothing (it never does
    # TLS: https:// URLs, redirects included, are mounted on the verifying one)
    return httpx.AsyncClient(timeout=timeout, transport=httpx.AsyncHTTPTransport(verify=trusts_nothing()),
                             mounts={"https://": _VerifyingTransport()})


class _VerifyingTransport(httpx.AsyncBaseTransport):
    """The https:// transport, made at the first https request: its verifying TLS
    context loads the CA bundle (~50 ms), which an http:// stream never needs."""

    def __init__(self) -> None:
        self._transport: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            self._transport = httpx.AsyncHTTPTransport(verify=tls_context())
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()


def _reconnect_delay(base: float, failures: int, opts: Tuning) -> float:
    """The first reconnection waits exactly the retry time; repeated failures double it (less
    some jitter) up to backoff_max_s, or the retry time when that is longer. Never less than
    min_reconnect_s: a `retry: 0` and an instant close make no storm. Any failure count is safe."""
    jitter = opts.jitter if failures > 1 else 0.0
    return backoff(base, failures, opts.backoff_max_s, jitter=jitter, floor=opts.min_reconnect_s)


async def _open(client: httpx.AsyncClient, target: httpx.URL, origin: httpx.URL,
                headers: Mapping[str, str] | None, last_event_id: str,
                timeout: httpx.Timeout, opts: Tuning) -> httpx.Response:
    """GET the stream, following redirects by hand so credentials stay with their origin."""
    for _ in range(opts.max_redirects + 1):
        request_headers = httpx.Headers()
        if headers and _same_origin(target, origin):
            for name, value in headers.items():
                request_headers[name] = value
        request_headers["Accept"] = "text/event-stream"
        request_headers["Accept-Encoding"] = "identity"  # (decoded_chunks still copes with gzip or deflate)
        request_headers["Cache-Control"] = "no-cache"  # as EventSource sends it
        if last_event_id and last_event_id.isprintable():  # (HTTP refuses control characters)
            request_headers["Last-Event-ID"] = last_event_id
        request = client.build_request("GET", target, headers=request_headers, timeout=timeout)
        response = await _send(client, request)
        if not response.has_redirect_location:
            try:
                _check(response)
            except (_Final, _Retry):
                await response.aclose()
                raise
            return response
        await response.aclose()
        try:
            target = response.url.join(response.headers["location"])
        except (httpx.InvalidURL, ValueError):
            raise _Final("error", "the server redirected to an invalid URL") from None
        if target.scheme not in ("http", "https"):
            raise _Final("error", f"the server redirected to a {target.scheme[:20]}: URL")
        problem = _url_problem(target)
        if problem:
            raise _Final("error", f"the server redirected to an invalid URL ({problem})")
    raise _Final("error", f"more than {opts.max_redirects} redirects")


async def _send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """client.send, its errors that no retry can mend made final."""
    try:
        return await client.send(request, stream=True, follow_redirects=False)
    except httpx.RemoteProtocolError as exc:
        # httpx reads a redirect's Location itself (even when not following it), before we can
        if str(exc).startswith("Invalid URL in location header"):
            raise _Final("error", "the server redirected to an invalid URL") from None
        raise
    except UnicodeError:  # an IDNA host name that does not decode (only a Location can hold one)
        raise _Final("error", "the server redirected to an invalid URL (its host is not a valid name)") from None
    except httpx.LocalProtocolError:  # what httpx/h11 refuse to send: the reason would quote a header value
        raise _Final("error", "the request is not valid HTTP (a header name or value?)") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise _Final("error", f"cannot open the URL: {exc}") from None


_HOST = re.compile(rb"[A-Za-z0-9._:-]+")  # (httpx.URL gives IDNA names encoded, IPv6 without brackets)


def _stream_url(url: str) -> httpx.URL:
    """The URL of the stream, or _Final when it cannot be one."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise _Final("error", f"not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise _Final("error", "not a valid URL: it is not http:// or https://")
    problem = _url_problem(parsed)
    if problem:
        raise _Final("error", f"not a valid URL: {problem}")
    return parsed


def _url_problem(url: httpx.URL) -> str | None:
    """Why an http(s) URL cannot be connected to, or None: checked before connecting, as a
    bad host or port would otherwise fail deep in the network stack (an IDNA error, an
    OverflowError inside an ExceptionGroup), or be retried for ever."""
    try:
        url.host  # noqa: B018  (decodes an IDNA name: a malformed one raises)
    except ValueError:
        return "its host is not a valid name"
    if not _HOST.fullmatch(url.raw_host):
        return "its host is not a valid name"
    if url.port is not None and not 0 < url.port < 65536:
        return "its port is out of range"
    return None


def _check(response: httpx.Response) -> None:
    """Only 200 opens an event stream (and 204 ends it for good); 429 and 5xx are retried."""
    status = response.status_code
    if status == 204:
        raise _Final("closed", "the server ended the stream for good (HTTP 204)")
    if status == 429 or status >= 500:
        raise _Retry(_status_line(status), _retry_after(response))
    if status != 200:
        suffix = " (an event stream answers 200 OK)" if 200 <= status < 300 else ""
        raise _Final("error", _status_line(status) + suffix)
    ctype = response.headers.get("content-type", "")
    if ctype.partition(";")[0].strip().lower() != "text/event-stream":
        shown = one_line(ctype[:60]) or "none"
        raise _Final("error", f"not an event stream (content type: {shown})")


def _status_line(status: int) -> str:
    return f"HTTP {status} {_phrase(status)}".rstrip()


def _phrase(status: int) -> str:
    try:
        return httpx.codes(status).phrase
    except ValueError:
        return ""


def _retry_after(response: httpx.Response) -> float:
    """Retry-After (seconds, or an HTTP date) as seconds from now in 0..MAX_WAIT_S; 0 when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    seconds = parse_int(value, low=0, high=int(MAX_WAIT_S))
    if seconds is not None:
        return float(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0
    return clamp(when.timestamp() - time.time(), 0.0, MAX_WAIT_S)


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _with_since(url: httpx.URL, message_id: str) -> httpx.URL:
    return url.copy_set_param("since", message_id)


def _describe(exc: BaseException) -> str:
    """An exception as a short phrase (made one clean line by _state)."""
    text = str(exc)[:300] or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {text}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out: {text}"
    if isinstance(exc, _TRANSIENT):
        return f"connection lost: {text}"
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in exc.exceptions[:3])
    return f"{type(exc).__name__}: {text}"


def _transient(exc: BaseException) -> bool:
    """Whether a failure is the network's or the server's (worth a retry), even wrapped in a group."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_transient(inner) for inner in exc.exceptions)
    return isinstance(exc, _TRANSIENT)


class _SeenIds:
    """Notification ids, to drop the ones a resumed stream sends again.

    Every id is remembered (cheaply, in order); on reconnecting, the ones seen so
    far become the set a replay is checked against.
    """

    __slots__ = ("recent", "before_resume")

    def __init__(self, limit: int) -> None:
        self.recent: deque[str] = deque(maxlen=limit)
        self.before_resume: set[str] = set()

    @property
    def last(self) -> str:
        return self.recent[-1] if self.recent else ""

    def resume(self) -> None:
        self.before_resume = set(self.recent)


_tuple = tuple.__new__


def _items(events: list[SseEvent], seen: _SeenIds) -> list[SseItem]:
    """Each event as a Notification when its data is an ntfy message, else as itself.

    One flat loop, a single tuple allocation per notification: it runs per event
    at firehose rates, where a helper call per event costs more than parsing the
    message (json_lines reads messages the same way).
    """
    items: list[SseItem] = []
    append = items.append
    loads = _decode_any
    remember = seen.recent.append
    replayed = seen.before_resume
    for event in events:
        data = event[1]
        if data[:1] != "{":
            append(event)
            continue
        try:
            obj = loads(data)
        except _UNDECODABLE:
            append(event)
            continue
        if type(obj) is not dict:
            append(event)
            continue
        get = obj.get
        kind = get("event", "message")
        message_id = get("id")
        topic = get("topic")
        if kind != "message" or type(message_id) is not str or type(topic) is not str or not message_id:
            if kind not in NTFY_CONTROL or event[0] != kind:
                append(event)
            continue
        if message_id in replayed:
            continue
        remember(message_id)
        append(_tuple(Notification, (message_id, topic, event, obj)))
    return items


class _NtfyMessage(msgspec.Struct, gc=False):
    """An ntfy message whose every field already has its type: the common case,
    checked in C by msgspec. Anything else takes json_lines' general path, which
    reads the same fields leniently (this class decides speed, never output)."""

    id: Annotated[str, msgspec.Meta(min_length=1)]
    topic: str
    event: str = "message"
    time: Annotated[int, msgspec.Meta(ge=0, le=MAX_EPOCH)] = 0
    title: str = ""
    message: str = ""
    priority: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3
    tags: list[str] = []
    click: str | None = None


class _WatchLine(msgspec.Struct, gc=False):
    """One line of `feedview watch --json` for a notification (fields in output order)."""

    event: str
    data: str
    id: str
    notification_id: str
    time: int
    topic: str
    title: str
    message: str
    priority: int
    tags: list[str]
    click: str | None


_decode_any = msgspec.json.Decoder().decode
_decode_ntfy = msgspec.json.Decoder(_NtfyMessage).decode
_encode = msgspec.json.Encoder().encode


def json_lines(events: list[Event], seen: _SeenIds) -> list[bytes]:
    """What _items yields, as the JSON lines of `feedview watch --json`, built directly.

    {"event", "data", "id"} for every event, plus for a notification its fields
    (its id as "notification_id"). Skips the objects _items builds, for speed: a
    well-typed ntfy message is decoded straight into a struct, anything else is
    read field by field as Notification's properties read it.
    """
    lines: list[bytes] = []
    append = lines.append
    decode_ntfy = _decode_ntfy
    encode = _encode
    remember = seen.recent.append
    replayed = seen.before_resume
    for event in events:
        data = event[1]
        if data[:1] == "{":
            try:
                message = decode_ntfy(data)
            except _UNDECODABLE:
                line = _json_line(event, seen)
            else:
                if message.event != "message":
                    line = _json_line(event, seen)
                elif message.id in replayed:
                    continue
                else:
                    remember(message.id)
                    line = encode(_WatchLine(
                        event[0], data, event[2], message.id, message.time, message.topic,
                        message.title, message.message, message.priority, message.tags,
                        message.click or None))
        else:
            line = _encode({"event": event[0], "data": data, "id": event[2]})
        if line is not None:
            append(line)
    return lines


def _json_line(event: Event, seen: _SeenIds) -> bytes | None:
    """json_lines for an event whose data is not a well-typed ntfy message (None: skip it)."""
    event_type, data, last_event_id = event
    try:
        obj = _decode_any(data)
    except _UNDECODABLE:
        obj = None
    if type(obj) is not dict:
        return _encode({"event": event_type, "data": data, "id": last_event_id})
    get = obj.get
    kind = get("event", "message")
    message_id = get("id")
    topic = get("topic")
    if kind != "message" or type(message_id) is not str or type(topic) is not str or not message_id:
        if kind in NTFY_CONTROL and event_type == kind:
            return None
        return _encode({"event": event_type, "data": data, "id": last_event_id})
    if message_id in seen.before_resume:
        return None
    seen.recent.append(message_id)
    when = get("time", 0)
    title = get("title", "")
    message = get("message", "")
    priority = get("priority", 3)
    tags = get("tags")
    click = get("click")
    return _encode(_WatchLine(
        event_type, data, last_event_id, message_id,
        when if type(when) is int and 0 <= when <= MAX_EPOCH else 0,
        topic,
        title if type(title) is str else "",
        message if type(message) is str else "",
        priority if type(priority) is int and 1 <= priority <= 5 else 3,
        _tags(tags) if tags else [],
        click if type(click) is str and click else None))


def _tags(tags: Any) -> list[str]:
    """The strings of an ntfy tags list (a list of strings, unless the server is odd)."""
    if type(tags) is not list:
        return []
    try:
        "".join(tags)  # all strings? checked in C
    except TypeError:
        return [t for t in tags if type(t) is str]
    return tags
