"""HTTP plumbing every feed shares: TLS contexts, and response bodies read within bounds.

httpx decodes `Content-Encoding` without a size limit and accepts stacked
encodings, so a 2 KB `gzip, gzip` body can expand to gigabytes inside one read.
Feeds therefore read the raw bytes and decode them here, a bounded slice at a
time: `decoded_chunks` never hands out more than `max_chunk` bytes at once, and
`read_body` stops at a byte cap. Only `gzip` and `deflate` are accepted, one at
a time (feeds ask for no more: see ACCEPT_ENCODING); anything else is an error
the feed reports, never a decoder that runs away.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from typing import Any, Literal

import httpx
import msgspec

ACCEPT_ENCODING = "gzip, deflate"  # what feeds that poll ask for (event streams ask for identity)
DEFAULT_MAX_CHUNK = 64 * 1024  # most decoded bytes handed out at once


class BodyError(Exception):
    """A body that cannot be read within its bounds; str() is one line for a human."""


class BodyTooLarge(BodyError):
    pass


class NotJson(BodyError):
    pass


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The one verifying TLS context of the process: loading the CA bundle takes ~50 ms of
    CPU, which each feed (and each of hundreds of health checks) would otherwise pay again."""
    return httpx.create_ssl_context()


FailureKind = Literal["timeout", "refused", "dns", "tls", "http", "other"]


def network_failure(exc: BaseException, host: str) -> tuple[FailureKind, str]:
    """What went wrong on the way to `host`, in the one vocabulary every feed speaks:
    "connection refused", "cannot resolve HOST (DNS)", "TLS: ...", "timed out",
    "bad response: ...", "connection lost: ...", "cannot connect: ..." (the cause is read
    through the exception's chain: httpx wraps the socket's and TLS's own errors)."""
    chain = _exception_chain(exc)
    if any(isinstance(e, (TimeoutError, httpx.TimeoutException)) for e in chain):
        return "timeout", "timed out"
    for error in chain:
        # (getattr: a client's own subclass of these, aiohttp's, may lack the attributes)
        if isinstance(error, ssl.SSLCertVerificationError):
            return "tls", f"TLS: {getattr(error, 'verify_message', None) or getattr(error, 'reason', None) or error}"
        if isinstance(error, ssl.SSLError):
            return "tls", f"TLS: {getattr(error, 'reason', None) or error}"
        if isinstance(error, socket.gaierror):
            return "dns", f"cannot resolve {host} (DNS)"
        if isinstance(error, ConnectionRefusedError):
            return "refused", "connection refused"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return "http", f"bad response: {text}"
    if isinstance(exc, httpx.ConnectError):
        return "other", f"cannot connect: {text}"
    return "other", f"connection lost: {text}"


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def content_codings(response: httpx.Response) -> list[str]:
    """The response's content codings, outermost last, `identity` left out."""
    return codings_of(response.headers.get_list("content-encoding"))


def codings_of(values: Iterable[str]) -> list[str]:
    """Content-Encoding header values (one or more, comma-separated) as codings, `identity` left out."""
    codings = (v.strip().lower() for value in values for v in value.split(","))
    return [coding for coding in codings if coding and coding != "identity"]


class _Inflater:
    """gzip or deflate (zlib-wrapped, or raw as some servers send it), decoded in bounded steps."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.raw_fallback = coding == "deflate"
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS)

    def decompress(self, data: bytes, max_chunk: int) -> bytes:
        try:
            return self._z.decompress(data, max_chunk)
        except zlib.error as exc:
            if self.raw_fallback:
                self.raw_fallback = False
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decompress(data, max_chunk)
            raise BodyError(f"the {self.coding} body is corrupt ({exc})") from None
        finally:
            self.raw_fallback = False

    @property
    def unconsumed(self) -> bytes:
        return self._z.unconsumed_tail

    @property
    def eof(self) -> bool:
        return self._z.eof


def decoded_chunks(
    response: httpx.Response, *, max_chunk: int = DEFAULT_MAX_CHUNK, whole: bool = False
) -> AsyncGenerator[bytes, None]:
    """The response body as it arrives, its content coding undone, in pieces of at most
    `max_chunk` bytes (however small the compressed input). Raises BodyError for a coding
    other than one gzip or deflate, or a corrupt body, and with `whole` for a compressed body
    cut short (a stream that ends with its connection is not); httpx's errors pass through.
    `decoded` itself, not a generator around it: one generator frame per piece on the SSE path."""
    return decoded(content_codings(response), response.aiter_raw(), max_chunk=max_chunk, whole=whole)


async def decoded(
    codings: list[str], raw_chunks: AsyncIterator[bytes], *, max_chunk: int = DEFAULT_MAX_CHUNK, whole: bool = False
) -> AsyncGenerator[bytes, None]:
    """decoded_chunks for any HTTP client: a body's raw bytes as they arrive and its content codings."""
    if len(codings) > 1:
        raise BodyError(f"the server stacked content encodings ({', '.join(codings)[:60]}); one is the most accepted")
    if codings and codings[0] not in ("gzip", "x-gzip", "deflate"):
        raise BodyError(f"the server sent an encoding that was not asked for ({codings[0][:30]})")
    if not codings:
        async for raw in raw_chunks:
            for at in range(0, len(raw), max_chunk):
                yield raw[at : at + max_chunk]
        return
    inflater = _Inflater(codings[0])
    async for raw in raw_chunks:
        data = raw
        while data and not inflater.eof:
            piece = inflater.decompress(data, max_chunk)
            data = inflater.unconsumed
            if piece:
                yield piece
        if inflater.eof:
            return  # what follows a complete gzip member is not part of the body
    if whole:
        raise BodyError(f"the {inflater.coding} body ends before its end")


async def read_body(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The whole decoded body, at most `limit` bytes. Beyond that: the first `limit` bytes
    when `truncate`, else BodyTooLarge (read no further either way)."""
    return await read_decoded(content_codings(response), response.aiter_raw(), limit, truncate=truncate)


async def read_decoded(
    codings: list[str], raw_chunks: AsyncIterator[bytes], limit: int, *, truncate: bool = False
) -> bytes:
    """read_body for any HTTP client: a body's raw bytes as they arrive and its content codings."""
    if not codings:  # most bodies: read with no decoder between (a generator less per body)
        return await _gathered(raw_chunks, limit, truncate)
    pieces = decoded(codings, raw_chunks, max_chunk=min(DEFAULT_MAX_CHUNK, limit + 1), whole=True)
    async with contextlib.aclosing(pieces):
        return await _gathered(pieces, limit, truncate)


async def _gathered(chunks: AsyncIterator[bytes], limit: int, truncate: bool) -> bytes:
    """The chunks joined, at most `limit` bytes: beyond, the first `limit` when `truncate`,
    else BodyTooLarge (read no further either way)."""
    kept: list[bytes] = []
    size = 0
    async for chunk in chunks:
        kept.append(chunk)
        size += len(chunk)
        if size > limit:
            if truncate:
                return b"".join(kept)[:limit]
            raise BodyTooLarge(f"the response is larger than {_size(limit)}")
    return b"".join(kept)


_decode_json = msgspec.json.Decoder().decode


def loads_json(data: bytes | str) -> Any:
    """JSON from the network: NotJson for anything that is not plain, finite JSON, however
    hostile (nesting thousands deep, floats beyond a double, NaN, Infinity). Integers beyond
    64 bits decode (a few thousand digits at most, within the body's byte cap): callers that
    show or compute with a number clamp it."""
    try:
        return _decode_json(data)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(" - at ")[0][:80]
        raise NotJson(f"not valid JSON: {reason}") from None


def _size(limit: int) -> str:
    return f"{limit // (1 << 20)} MiB" if limit >= 1 << 20 else f"{limit // 1024} KiB"
