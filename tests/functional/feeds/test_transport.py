"""Bodies read within bounds over real loopback HTTP: decompression bombs, stacked and
unknown encodings, hostile JSON."""

from __future__ import annotations

import functools
import gzip
import zlib

import httpx
import pytest

from feedview.feeds.transport import BodyError, BodyTooLarge, NotJson, decoded_chunks, loads_json, read_body

GZIP = [("Content-Encoding", "gzip")]


@functools.cache
def bomb(size: int, layers: int = 1) -> bytes:
    data = b"\n" * size
    for _ in range(layers):
        data = gzip.compress(data, 9)
    return data


async def get(raw, *steps, headers):
    raw.reply(*steps, headers=headers)
    client = httpx.AsyncClient()
    request = client.build_request("GET", raw.url)
    return client, await client.send(request, stream=True)


async def test_a_gzip_bomb_is_handed_out_in_bounded_pieces(raw):
    body = bomb(64 << 20)  # 64 MiB of newlines in ~64 KB
    client, response = await get(raw, body, headers=GZIP)
    try:
        sizes = []
        async for piece in decoded_chunks(response, max_chunk=64 * 1024):
            sizes.append(len(piece))
            if sum(sizes) >= 8 << 20:
                break
        assert max(sizes) <= 64 * 1024
    finally:
        await response.aclose()
        await client.aclose()


async def test_read_body_stops_at_its_cap(raw):
    client, response = await get(raw, bomb(64 << 20), headers=GZIP)
    try:
        with pytest.raises(BodyTooLarge, match="larger than 1 MiB"):
            await read_body(response, 1 << 20)
    finally:
        await response.aclose()
        await client.aclose()


async def test_read_body_can_keep_the_first_bytes(raw):
    client, response = await get(raw, gzip.compress(b"x" * 100_000), headers=GZIP)
    try:
        assert await read_body(response, 1000, truncate=True) == b"x" * 1000
    finally:
        await client.aclose()


async def test_stacked_encodings_are_refused_before_decoding(raw):
    client, response = await get(raw, bomb(64 << 20, layers=2), headers=[("Content-Encoding", "gzip, gzip")])
    try:
        with pytest.raises(BodyError, match="stacked"):
            await read_body(response, 1 << 20)
    finally:
        await response.aclose()
        await client.aclose()


async def test_an_encoding_not_asked_for_is_refused(raw):
    client, response = await get(raw, b"\x00" * 10, headers=[("Content-Encoding", "br")])
    try:
        with pytest.raises(BodyError, match="not asked for"):
            await read_body(response, 1 << 20)
    finally:
        await response.aclose()
        await client.aclose()


@pytest.mark.parametrize("payload", [zlib.compress(b"hello"), zlib.compress(b"hello")[2:-4]])  # zlib and raw deflate
async def test_deflate_both_ways_servers_send_it(raw, payload):
    client, response = await get(raw, payload, headers=[("Content-Encoding", "deflate")])
    try:
        assert await read_body(response, 100) == b"hello"
    finally:
        await client.aclose()


async def test_a_corrupt_body_is_a_body_error(raw):
    client, response = await get(raw, b"\x1f\x8b\x08\x00garbage" * 10, headers=GZIP)
    try:
        with pytest.raises(BodyError, match="corrupt"):
            await read_body(response, 1000)
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    "hostile",
    [b'{"a":' * 50_000, b"[" * 100_000, b"1e400", b"[NaN]", b"Infinity", b"1" + b"0" * 5000, b"\xff\xfe", b""],
)
def test_hostile_json_is_one_clear_error(hostile):
    with pytest.raises(NotJson, match="not valid JSON"):
        loads_json(hostile)


def test_plain_json_decodes():
    assert loads_json(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


async def test_a_compressed_body_cut_short_is_an_error(raw):
    client, response = await get(raw, gzip.compress(b"x" * 100_000)[:-20], headers=GZIP)
    try:
        with pytest.raises(BodyError, match="ends before its end"):
            await read_body(response, 1 << 20)
    finally:
        await client.aclose()
