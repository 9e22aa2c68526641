"""HTTP for event streams: opening one, within bounds, and saying why it failed.

`open_stream` makes the GET an EventSource makes (Accept: text/event-stream,
Cache-Control: no-cache, Last-Event-ID) with `Accept-Encoding: identity`, and
follows redirects by hand, so that the caller's headers go only to the stream's
own origin. Only a 200 with the event-stream content type opens a stream: 204
ends it for good, 429 and 5xx are worth another try (after Retry-After), and
anything else (another 2xx included) is final. URLs, the caller's and the
Location headers alike, are checked before anything connects to them.

The stream is read through aiohttp (its body costs a quarter of httpx's CPU to
read: docs/benchmarks.md), with health.py's session settings: no decompression
by aiohttp (transport.decoded bounds it), no cookies, no trust_env (proxies are
looked up once per stream, StreamPlan), TLS with the project's one verifying
context for https only. URLs are parsed, joined and checked as httpx.URL (the
one URL type of the feeds) and sent as httpx quoted them.

Failures are exceptions here, Retryable or Final, with one human reason each;
the reconnecting feed (feeds/sse.py) turns them into FeedState items.
"""

from __future__ import annotations

import base64
import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.request import getproxies, proxy_bypass

import aiohttp
import httpx
import yarl
from multidict import CIMultiDict

from ..text import one_line
from .limits import MAX_WAIT_S, clamp, parse_int
from .transport import network_failure, tls_context

# Failures of the network or of the server's HTTP, worth another try (anything else is final)
_TRANSIENT = (aiohttp.ClientError, OSError, EOFError)
_REDIRECTS = frozenset((301, 302, 303, 307, 308))


class Retryable(Exception):
    """The stream failed, but may open on another try (not before `not_before` seconds)."""

    def __init__(self, reason: str, not_before: float = 0.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_before = not_before


class Final(Exception):
    """The stream ended for good: `phase` "closed" (the server said so) or "error"."""

    def __init__(self, phase: str, reason: str) -> None:
        super().__init__(reason)
        self.phase = phase
        self.reason = reason


class NotAStream(Final):
    """The server answered, but not with an event stream (an ntfy topic's web page, say)."""


def new_session() -> aiohttp.ClientSession:
    """The feed's own HTTP client, with health.py's settings: raw bodies (transport.decoded
    bounds them), no cookies (a stream is no browser session), nothing read from the
    environment per request (StreamPlan looks proxies up once). Timeouts and TLS go with
    each request (stream_timeout, StreamPlan.tls_for), so a caller's session works alike."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None),
    )


def stream_timeout(connect_timeout_s: float, idle_timeout: float) -> aiohttp.ClientTimeout:
    """No limit on the whole stream; the connection's, and idle_timeout without a byte
    (aiohttp's sock_read, re-armed on every read: SocketTimeoutError, "no data for Ns")."""
    return aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s, sock_read=idle_timeout)


@dataclass
class StreamPlan:
    """What every request of one stream shares: worked out once (the environment's proxies
    included: aiohttp's trust_env would read them, and ~/.netrc, on every request)."""

    origin: httpx.URL
    headers: Mapping[str, str] | None
    timeout: aiohttp.ClientTimeout
    max_redirects: int
    proxies: dict[str, str] = field(default_factory=getproxies)

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy the environment names for this URL, or None (none, or NO_PROXY covers its host)."""
        proxy = self.proxies.get(url.scheme) or self.proxies.get("all")
        if proxy is None or proxy_bypass(url.host):
            return None
        return proxy


async def open_stream(
    session: aiohttp.ClientSession, plan: StreamPlan, target: httpx.URL, last_event_id: str
) -> aiohttp.ClientResponse:
    """GET the stream, following redirects by hand so credentials stay with their origin."""
    for _ in range(plan.max_redirects + 1):
        headers = _request_headers(plan.headers if _same_origin(target, plan.origin) else None, last_event_id)
        response = await _send(session, plan, target, headers)
        location = response.headers.get("Location") if response.status in _REDIRECTS else None
        if location is None:
            try:
                _check(response.status, response.headers)
            except (Final, Retryable):
                response.close()
                raise
            return response
        response.close()
        target = _redirected(target, location)
    raise Final("error", f"more than {plan.max_redirects} redirects")


def _request_headers(theirs: Mapping[str, str] | None, last_event_id: str) -> CIMultiDict[str]:
    """The caller's headers (when the request goes to their origin), then the stream's own."""
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in (theirs or {}).items():
        headers[name] = value  # (one value a name, as httpx.Headers kept it)
    headers["Accept"] = "text/event-stream"
    headers["Accept-Encoding"] = "identity"  # (transport.decoded still copes with gzip or deflate)
    headers["Cache-Control"] = "no-cache"  # as EventSource sends it
    if last_event_id and last_event_id.isprintable():  # (HTTP refuses control characters)
        headers["Last-Event-ID"] = last_event_id
    if not all(_TOKEN.fullmatch(name) and _FIELD_VALUE.fullmatch(value) for name, value in headers.items()):
        # (aiohttp would refuse it only once connected; the reason would quote the value)
        raise Final("error", "the request is not valid HTTP (a header name or value?)")
    return headers


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FIELD_VALUE = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f]*")  # no control but HTAB


async def _send(
    session: aiohttp.ClientSession, plan: StreamPlan, target: httpx.URL, headers: CIMultiDict[str]
) -> aiohttp.ClientResponse:
    """One GET, no redirect followed, its errors that no retry can mend made final."""
    if target.userinfo:  # the URL's credentials, as HTTP basic auth (they win over a header, as in httpx)
        token = base64.b64encode(f"{target.username}:{target.password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        target = target.copy_with(username=None, password=None)
    try:
        return await session.get(
            yarl.URL(str(target), encoded=True),  # (sent as httpx checked and quoted it: path, since=)
            headers=headers,
            allow_redirects=False,
            timeout=plan.timeout,
            proxy=plan.proxy_for(target),
            ssl=tls_context() if target.scheme == "https" else True,
        )
    except aiohttp.InvalidURL as exc:
        raise Final("error", f"cannot open the URL: {type(exc).__name__}") from None
    except ValueError as exc:  # what aiohttp refuses to send: the reason would quote a header value
        if isinstance(exc, _TRANSIENT):  # (a TLS certificate error is a ValueError too)
            raise
        raise Final("error", "the request is not valid HTTP (a header name or value?)") from None


def _redirected(base: httpx.URL, location: str) -> httpx.URL:
    """Where a Location sends the stream, or Final when it cannot be followed."""
    try:
        target = base.join(location)
    except (httpx.InvalidURL, ValueError):
        raise Final("error", "the server redirected to an invalid URL") from None
    if target.scheme not in ("http", "https"):
        raise Final("error", f"the server redirected to a {one_line(target.scheme[:20])}: URL")
    problem = _url_problem(target)
    if problem:
        raise Final("error", f"the server redirected to an invalid URL ({problem})")
    return target


_HOST = re.compile(rb"[A-Za-z0-9._:-]+")  # (httpx.URL gives IDNA names encoded, IPv6 without brackets)


def stream_url(url: str) -> httpx.URL:
    """The URL of the stream, or Final when it cannot be one."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise Final("error", f"not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise Final("error", "not a valid URL: it is not http:// or https://")
    problem = _url_problem(parsed)
    if problem:
        raise Final("error", f"not a valid URL: {problem}")
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


def _check(status: int, headers: Mapping[str, str]) -> None:
    """Only 200 opens an event stream (and 204 ends it for good); 429 and 5xx are retried."""
    if status == 204:
        raise Final("closed", "the server ended the stream for good (HTTP 204)")
    if status == 429 or status >= 500:
        raise Retryable(_status_line(status), _retry_after(headers))
    if status != 200:
        suffix = " (an event stream answers 200 OK)" if 200 <= status < 300 else ""
        raise Final("error", _status_line(status) + suffix)
    ctype = headers.get("content-type", "")
    if ctype.partition(";")[0].strip().lower() != "text/event-stream":
        shown = one_line(ctype[:60]) or "none"
        raise NotAStream("error", f"not an event stream (content type: {shown})")


def _status_line(status: int) -> str:
    return f"HTTP {status} {_phrase(status)}".rstrip()


def _phrase(status: int) -> str:
    try:
        return httpx.codes(status).phrase  # type: ignore[attr-defined]
    except ValueError:
        return ""


def _retry_after(headers: Mapping[str, str]) -> float:
    """Retry-After (seconds, or an HTTP date) as seconds from now in 0..MAX_WAIT_S; 0 when absent or unreadable."""
    value = headers.get("retry-after", "").strip()
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


def describe(exc: BaseException, host: str = "the server") -> str:
    """An exception as a short phrase in the vocabulary every feed speaks (transport.network_failure,
    with aiohttp's own cases worded as health.py words them; the feed makes it one clean line,
    secrets redacted)."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(inner, host) for inner in exc.exceptions[:3])
    if isinstance(exc, (aiohttp.ClientResponseError, aiohttp.ClientPayloadError)):
        text = exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)
        return f"bad response: {str(text).split(', message=')[0] or type(exc).__name__}"[:300]
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        exc = exc.certificate_error  # (aiohttp's wrapper repeats the host and port, not the reason)
    elif isinstance(exc, aiohttp.ClientConnectorSSLError):
        exc = exc.os_error
    if isinstance(exc, _TRANSIENT):
        kind, reason = network_failure(exc, host)
        if kind == "other" and isinstance(exc, aiohttp.ClientConnectorError):
            reason = f"cannot connect: {exc.os_error.strerror or exc.os_error}"
        elif kind == "other" and isinstance(exc, aiohttp.ServerDisconnectedError):
            reason = "connection lost: the server closed the connection"
        return reason[:300]
    return f"{type(exc).__name__}: {str(exc)[:300] or type(exc).__name__}"


def is_transient(exc: BaseException) -> bool:
    """Whether a failure is the network's or the server's (worth a retry), even wrapped in a group."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_transient(inner) for inner in exc.exceptions)
    return isinstance(exc, _TRANSIENT)


def header_secrets(headers: Mapping[str, str] | None) -> list[str]:
    """What no output may show (text.redact's secrets): each header value, and its last word
    (the token of "Bearer TOKEN")."""
    values = [value.strip() for value in (headers or {}).values() if isinstance(value, str) and value.strip()]
    return values + [value.split()[-1] for value in values if len(value.split()) > 1]
