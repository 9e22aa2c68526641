"""The lab's hostile fault knobs, as a client sees them on the wire: bytes and headers, undecoded."""

from __future__ import annotations

import http.client
import json
import time
import zlib
from urllib.parse import urlsplit

import httpx
import pytest

from feedview.lab.faults import CYCLES, FAULTS, KNOBS
from feedview.lab.hostile import HOSTILE_SUFFIX, MIB

AUTH = {"Authorization": "Bearer lab-token"}


class Raw:
    """One response exactly as sent: status, header bytes (name lower-cased) and the body, undecoded."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> bytes | None:
        return next((v for k, v in self.headers if k == name.encode()), None)


def raw_get(lab, target: str, headers: dict[str, str] | None = None) -> Raw:
    """GET with http.client: no redirect handling, no decoding, headers as the bytes they were."""
    connection = http.client.HTTPConnection(urlsplit(lab.base_url).netloc, timeout=10)
    try:
        connection.request("GET", target, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        pairs = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()]
        return Raw(response.status, pairs, body)
    finally:
        connection.close()


def inflate(data: bytes, wbits: int, limit: int = 64 * MIB) -> bytes:
    """Decompress with a bound on the output (a test must not trust a bomb either)."""
    decompressor = zlib.decompressobj(wbits)
    out = decompressor.decompress(data, limit)
    assert decompressor.eof and not decompressor.unconsumed_tail
    return out


# -- decompression bombs ---------------------------------------------------------------------


def test_gzip_bomb_is_small_on_the_wire_and_expands_to_bomb_mb_of_json(lab):
    answer = raw_get(lab, "/orgs/octo-org/repos?bomb=gzip&bomb_mb=4")
    assert answer.status == 200
    assert answer.header("content-encoding") == b"gzip"
    assert answer.header("content-type").startswith(b"application/json")
    assert int(answer.header("content-length")) == len(answer.body) < 4 * MIB // 100
    expanded = inflate(answer.body, 31)
    assert 4 * MIB <= len(expanded) < 4 * MIB + 16
    assert expanded.startswith(b"[0,0,") and expanded.endswith(b",0]")
    assert len(json.loads(expanded)) == 2 * MIB + 1


def test_gzip2_bomb_is_gzip_inside_gzip(lab):
    answer = raw_get(lab, "/health/api?bomb=gzip2&bomb_mb=2&bomb_fill=space")
    assert answer.header("content-encoding") == b"gzip, gzip"
    expanded = inflate(inflate(answer.body, 31), 31)
    assert len(expanded) == 2 * MIB + 2 and expanded.endswith(b" []") and json.loads(expanded) == []


def test_deflate_bomb_is_the_zlib_format(lab):
    answer = raw_get(lab, "/notifications?bomb=deflate&bomb_mb=1", AUTH)
    assert answer.header("content-encoding") == b"deflate"
    assert len(inflate(answer.body, 15)) == MIB + 3


@pytest.mark.parametrize(
    ("fill", "start", "end"),
    [
        ("data", b"data: 0000", b"000\n\n"),
        ("blank", b"\n\n\n", b"\n\n\n"),
        ("line", b"data: 0000", b"0000"),
    ],
)
def test_event_stream_bombs(lab, fill, start, end):
    answer = raw_get(lab, f"/events?bomb=gzip&bomb_mb=1&bomb_fill={fill}")
    assert answer.status == 200 and answer.header("content-type").startswith(b"text/event-stream")
    assert answer.header("content-encoding") == b"gzip"
    expanded = inflate(answer.body, 31)
    assert len(expanded) >= MIB and expanded.startswith(start) and expanded.endswith(end)
    if fill == "line":
        assert b"\n" not in expanded


def test_ntfy_stream_bomb(lab):
    answer = raw_get(lab, "/ntfy/alerts/sse?bomb=deflate&bomb_mb=1")
    assert answer.header("content-type").startswith(b"text/event-stream")
    assert inflate(answer.body, 15).startswith(b"data: 0")


@pytest.mark.parametrize(
    "query",
    [
        "bomb=zip",
        "bomb=gzip&bomb_mb=0",
        "bomb=gzip&bomb_mb=99999",
        "bomb=gzip&bomb_fill=blank",
        "nested=0",
        "nested=x",
        "json_number=lots",
        "cycle=nonsense",
        "cycle=ok,nonsense",
    ],
)
def test_a_bad_knob_value_is_a_400_with_one_line(lab, query):
    answer = raw_get(lab, f"/users/mona/repos?{query}")
    assert answer.status == 400
    message = json.loads(answer.body)["message"]
    assert message.startswith("bad lab knob: ") and "\n" not in message


# -- nesting, numbers, text ------------------------------------------------------------------


def test_nested_json_bodies(lab):
    deep = raw_get(lab, "/users/mona/repos?nested=50000")
    assert deep.status == 200 and deep.body == b"[" * 50000 + b"]" * 50000
    objects = raw_get(lab, "/health/api?nested=3&nested_kind=object")
    assert objects.status == 200 and objects.body == b'{"a":{"a":{"a":{}}}}'
    stream = raw_get(lab, "/events?nested=4")
    assert stream.header("content-type").startswith(b"text/event-stream")
    assert stream.body == b"data: [[[[]]]]\n\n"


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("1e400", b"1e400"),
        ("nan", b"NaN"),
        ("inf", b"Infinity"),
        ("-inf", b"-Infinity"),
        ("bigint", b"9" * 5000),
        ("-0.5e-999", b"-0.5e-999"),
    ],
)
def test_json_number_writes_hostile_numbers_bare(lab, value, token):
    answer = raw_get(lab, f"/users/mona/repos?per_page=3&json_number={value}")
    assert answer.status == 200 and int(answer.header("content-length")) == len(answer.body)
    for field in (b"stargazers_count", b"forks_count", b"open_issues_count", b"size", b"id"):
        assert answer.body.count(b'"' + field + b'":' + token) >= 3
    assert b'"node_id":"R_lab' in answer.body  # strings stay strings


def test_json_number_in_event_data_and_health_documents(lab):
    stream = raw_get(lab, "/events?interval=0&close_after=2&json_number=nan", {"Last-Event-ID": "0"})
    frames = [line for line in stream.body.split(b"\n") if line.startswith(b"data: ")]
    assert len(frames) == 2 and all(b'"priority":NaN' in f and b'"time":NaN' in f for f in frames)
    health = raw_get(lab, "/health/api?json_number=1e400")
    assert health.body.count(b'"observedValue": 1e400') == 2


def test_hostile_text_in_repos(lab):
    answer = raw_get(lab, "/users/mona/repos?per_page=2&hostile_text=1")
    repos = json.loads(answer.body)
    assert int(answer.header("content-length")) == len(answer.body)
    for repo in repos:
        for text in (repo["name"], repo["full_name"]):
            assert text.startswith("\u202e") and text.endswith(HOSTILE_SUFFIX)
            assert "\x1b]0;pwned\x07" in text and "\x9b" in text and "[bold red]" in text and "\u200b" in text
        assert repo["html_url"].startswith("https://admin:hunter2@github.com/") and "\x1b]8;;" in repo["html_url"]
        assert repo["owner"]["login"] == "mona"  # logins are left alone: clients build URLs from them


def test_hostile_text_in_notifications_and_event_streams(lab):
    threads = json.loads(raw_get(lab, "/notifications?all=true&hostile_text=1", AUTH).body)
    assert all("\x1b[2J" in t["subject"]["title"] and "\u2066" in t["repository"]["full_name"] for t in threads)
    stream = raw_get(lab, "/events?interval=0&close_after=1&hostile_text=1", {"Last-Event-ID": "0"})
    event_line = next(line for line in stream.body.split(b"\n") if line.startswith(b"event: "))
    assert b"\x1b]0;pwned\x07" in event_line and b"\x00" not in event_line
    data = json.loads(next(line for line in stream.body.split(b"\n") if line.startswith(b"data: "))[6:])
    assert "\u202e" in data["title"] and "\x1b" in data["message"]


def test_without_knobs_bodies_are_untouched(lab):
    plain = raw_get(lab, "/users/mona/repos?per_page=2")
    assert b"hunter2" not in plain.body and b"\\u001b" not in plain.body


# -- headers: redirects, poll intervals, rate limits, links ---------------------------------


@pytest.mark.parametrize(
    ("value", "location"),
    [
        ("bad", b"http://[bad"),
        ("ctrl", b"/next\x1b]0;pwned\x07\x1b[2J\xc2\x9b31m\xe2\x80\xae"),
        ("scheme", b"javascript:alert(1)"),
        ("creds", b"http://admin:hunter2@127.0.0.1:9/"),
        ("port", b"http://127.0.0.1:99999/"),
    ],
)
def test_location_knob_sends_a_broken_redirect(lab, value, location):
    answer = raw_get(lab, f"/events?location={value}")
    assert answer.status == 302 and answer.header("location") == location


def test_location_loop_and_status(lab):
    answer = raw_get(lab, "/_knobs/tag=x/health/api?location=loop&status=301")
    assert answer.status == 301 and answer.header("location") == b"/_knobs/tag=x/health/api?location=loop&status=301"


def test_poll_interval_knob_is_sent_as_given(lab):
    for value in ("1e300", "0.000001", "nan"):
        answer = raw_get(lab, f"/notifications?poll_interval={value}", AUTH)
        assert answer.status == 200 and answer.header("x-poll-interval") == value.encode()


def test_ratelimit_reset_in_the_past(lab):
    answer = raw_get(lab, "/users/mona/repos?ratelimit=1&reset_past=1&retry_after=nan")
    assert answer.status == 403 and answer.header("x-ratelimit-remaining") == b"0"
    assert int(answer.header("x-ratelimit-reset")) < time.time() - 3000
    assert answer.header("retry-after") == b"nan"
    huge = raw_get(lab, "/users/mona/repos?ratelimit=1&reset_in=1e300")
    assert len(huge.header("x-ratelimit-reset")) == 301


def test_escape_link_puts_escapes_in_the_next_path_and_the_lab_still_serves_it(lab):
    answer = raw_get(lab, "/notifications?all=true&escape_link=1", AUTH)
    link = answer.header("link").decode()
    assert answer.status == 200 and 'rel="next"' in link  # 14 threads: one page, and a next anyway
    next_url = link.split(">")[0].removeprefix("<")
    assert "/_knobs/note=%1B]0;pwned%07%E2%80%AE%E2%80%8B/notifications?" in next_url
    following = raw_get(lab, next_url.removeprefix(lab.base_url), AUTH)
    assert following.status == 200 and json.loads(following.body) == []


# -- event streams: retry, storms, blank and data lines, odd statuses --------------------------


def test_retry_digits_and_retry_as_given(lab):
    answer = raw_get(lab, "/events?retry_digits=5000&close_after=0")
    assert answer.body == b"retry: " + b"9" * 5000 + b"\n\n"
    ntfy = raw_get(lab, "/ntfy/t/sse?retry=-1.5&close_after=0")
    assert ntfy.body.startswith(b"retry: -1.5\n\nevent: open\n") and ntfy.body.count(b"event:") == 1


def test_close_after_zero_with_retry_zero_is_a_reconnect_storm(lab):
    for _ in range(5):
        assert raw_get(lab, "/events?retry=0&close_after=0").body == b"retry: 0\n\n"
    assert lab.state.wait_for(lambda s: s.disconnects == 5 and s.open_streams == 0)


def test_data_lines_and_blank_lines(lab):
    answer = raw_get(
        lab, "/events?data_lines=100000&blank_lines=70000&close_after=1&interval=0", {"Last-Event-ID": "0"}
    )
    opening = b"retry: 3000\n\n" + b"data:\n" * 100000 + b"\n" + b"\n" * 70000
    assert answer.body.startswith(opening)
    assert answer.body[len(opening) :].startswith(b"id: 1\n") and answer.body.endswith(b"\n\n")


@pytest.mark.parametrize("status", [205, 210, 299])
def test_odd_2xx_statuses_serve_the_event_stream(lab, status):
    answer = raw_get(lab, f"/events?status={status}&close_after=2&interval=0", {"Last-Event-ID": "0"})
    assert answer.status == status and answer.header("content-type").startswith(b"text/event-stream")
    assert answer.body.count(b"\ndata: {") == 2
    elsewhere = raw_get(lab, f"/users/mona/repos?status={status}")
    assert elsewhere.status == status and json.loads(elsewhere.body)["message"].startswith("lab fault")


def test_fail_times_covers_the_hostile_answers(lab):
    statuses = [raw_get(lab, "/health/api?nested=2&fail_times=1").body for _ in range(2)]
    assert statuses[0] == b"[[]]" and json.loads(statuses[1])["status"] == "pass"


# -- /_knobs/ prefixes and cycles -----------------------------------------------------------------


def test_knobs_prefix_applies_to_a_base_url_and_links_keep_it(lab):
    answer = raw_get(lab, "/_knobs/json_number=nan&tag=me/orgs/octo-org/repos?per_page=2")
    assert answer.status == 200 and b'"stargazers_count":NaN' in answer.body
    next_url = answer.header("link").decode().split(">")[0].removeprefix("<")
    assert next_url == f"{lab.base_url}/_knobs/json_number=nan&tag=me/organizations/9919/repos?per_page=2&page=2"
    assert b"NaN" in raw_get(lab, next_url.removeprefix(lab.base_url)).body
    assert lab.state.requests_to("/_knobs/json_number=nan&tag=me/")  # the log has the URL as requested


def test_query_parameters_win_over_the_prefix(lab):
    assert raw_get(lab, "/_knobs/status=503/health/api?status=502").status == 502


def test_a_cycle_gives_each_request_the_next_fault_and_logs_it(lab):
    url = "/health/api?cycle=ok,status_500,nested_array,status_503_retry_huge"
    statuses = [raw_get(lab, url).status for _ in range(5)]
    assert statuses == [200, 500, 200, 503, 200]
    assert [r.fault for r in lab.state.requests_to("/health/api")] == [
        "ok",
        "status_500",
        "nested_array",
        "status_503_retry_huge",
        "ok",
    ]
    assert raw_get(lab, url + "&tag=other").status == 200  # a tag counts on its own


def test_a_named_cycle_runs_through_every_entry(lab):
    names = CYCLES["health"]
    for _ in names:
        raw_get(lab, "/health/api?cycle=health&bomb_mb=1")
    assert [r.fault for r in lab.state.requests_to("/health/api")] == names


def test_every_cycle_entry_is_a_fault_and_every_knob_is_listed(lab):
    index = json.loads(raw_get(lab, "/").body)
    assert set(index["cycles"]) == {"sse", "health", "repos", "notifications"}
    assert all(name in FAULTS for names in CYCLES.values() for name in names)
    listed = {k["knob"].split("=")[0] for k in index["knobs"]}
    assert listed == {k.split("=")[0] for k, _, _ in KNOBS}
    assert {
        "bomb",
        "nested",
        "json_number",
        "hostile_text",
        "location",
        "cycle",
        "poll_interval",
        "escape_link",
        "retry_digits",
        "close_after",
        "data_lines",
        "blank_lines",
        "reset_past",
    } <= listed
    assert "/_knobs/{k=v&...}/{path}" in [e["path"] for e in index["endpoints"]]


def test_httpx_meets_the_broken_location_as_an_error_not_a_hang(lab):
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(lab.url("/events?location=ctrl"), timeout=5)
