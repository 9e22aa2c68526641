"""HTTP for event streams: opening one, within bounds, and saying why it failed.

`open_stream` makes the GET an EventSource makes (Accept: text/event-stream,
Cache-Control: no-cache, Last-Event-ID) with `Accept-Encoding: identity`, and
follows redirects by hand, so that the caller's headers go only to the stream's
own origin. Only a 200 with the event-stream content type opens a stream: 204
ends it for good, 429 and 5xx are worth another try (after Retry-After), and
anything else (another 2xx included) is final. URLs, the caller's and the
Location headers alike, are checked before anything connects to them.

Failures are exceptions here, Retryable or Final, with one human reason each;
the reconnecting feed (feeds/sse.py) turns them into FeedState items.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from urllib.request import getproxies  # (httpx imports it anyway)

import httpx

from ..text import one_line
from .limits import MAX_WAIT_S, clamp, parse_int
from .transport import network_failure, tls_context, trusts_nothing

# Failures of the network or of the server's HTTP, worth another try (anything else is final)
_TRANSIENT = (httpx.TransportError, OSError, EOFError)


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


def new_client(timeout: httpx.Timeout) -> httpx.AsyncClient:
    """A client for event streams, with the process's shared TLS contexts (feeds/transport.py)."""
    if getproxies():
        # proxies from the environment (HTTPS_PROXY, ...): httpx sets them up only when it
        # builds the transports itself, so it does, verifying TLS from the start
        return httpx.AsyncClient(timeout=timeout, verify=tls_context())
    # http:// goes through a transport whose TLS context trusts nothing (it never does
    # TLS: https:// URLs, redirects included, are mounted on the verifying one)
    return httpx.AsyncClient(
        timeout=timeout,
        transport=httpx.AsyncHTTPTransport(verify=trusts_nothing()),
        mounts={"https://": _VerifyingTransport()},
    )


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


async def open_stream(
    client: httpx.AsyncClient,
    target: httpx.URL,
    origin: httpx.URL,
    headers: Mapping[str, str] | None,
    last_event_id: str,
    timeout: httpx.Timeout,
    max_redirects: int,
) -> httpx.Response:
    """GET the stream, following redirects by hand so credentials stay with their origin."""
    for _ in range(max_redirects + 1):
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
            except (Final, Retryable):
                await response.aclose()
                raise
            return response
        await response.aclose()
        try:
            target = response.url.join(response.headers["location"])
        except (httpx.InvalidURL, ValueError):
            raise Final("error", "the server redirected to an invalid URL") from None
        if target.scheme not in ("http", "https"):
            raise Final("error", f"the server redirected to a {target.scheme[:20]}: URL")
        problem = _url_problem(target)
        if problem:
            raise Final("error", f"the server redirected to an invalid URL ({problem})")
    raise Final("error", f"more than {max_redirects} redirects")


async def _send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """client.send, its errors that no retry can mend made final."""
    try:
        return await client.send(request, stream=True, follow_redirects=False)
    except httpx.RemoteProtocolError as exc:
        # httpx reads a redirect's Location itself (even when not following it), before we can
        if str(exc).startswith("Invalid URL in location header"):
            raise Final("error", "the server redirected to an invalid URL") from None
        raise
    except UnicodeError:  # an IDNA host name that does not decode (only a Location can hold one)
        raise Final("error", "the server redirected to an invalid URL (its host is not a valid name)") from None
    except httpx.LocalProtocolError:  # what httpx/h11 refuse to send: the reason would quote a header value
        raise Final("error", "the request is not valid HTTP (a header name or value?)") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise Final("error", f"cannot open the URL: {exc}") from None


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


def _check(response: httpx.Response) -> None:
    """Only 200 opens an event stream (and 204 ends it for good); 429 and 5xx are retried."""
    status = response.status_code
    if status == 204:
        raise Final("closed", "the server ended the stream for good (HTTP 204)")
    if status == 429 or status >= 500:
        raise Retryable(_status_line(status), _retry_after(response))
    if status != 200:
        suffix = " (an event stream answers 200 OK)" if 200 <= status < 300 else ""
        raise Final("error", _status_line(status) + suffix)
    ctype = response.headers.get("content-type", "")
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


def describe(exc: BaseException, host: str = "the server") -> str:
    """An exception as a short phrase in the vocabulary every feed speaks (transport.network_failure;
    the feed makes it one clean line, secrets redacted)."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(inner, host) for inner in exc.exceptions[:3])
    if isinstance(exc, _TRANSIENT):
        return network_failure(exc, host)[1][:300]
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
