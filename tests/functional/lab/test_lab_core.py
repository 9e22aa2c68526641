"""The lab server itself and its generic fault knobs, over real loopback HTTP."""

from __future__ import annotations

import time

import httpx


def test_index_lists_endpoints(lab):
    response = httpx.get(lab.url("/"))
    assert response.status_code == 200
    assert response.json()["name"] == "feedview lab"
    assert lab.base_url.startswith("http://127.0.0.1:")


def test_status_knob_with_retry_after(lab):
    response = httpx.get(lab.url("/?status=429&retry_after=7"))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert "lab fault" in response.json()["message"]


def test_5xx_knob(lab):
    assert httpx.get(lab.url("/?status=503")).status_code == 503


def test_ratelimit_knob(lab):
    before = time.time()
    response = httpx.get(lab.url("/?ratelimit=1&reset_in=30"))
    assert response.status_code == 403
    assert response.headers["x-ratelimit-remaining"] == "0"
    reset = int(response.headers["x-ratelimit-reset"])
    assert before + 29 <= reset <= time.time() + 31


def test_fail_times_then_recovers(lab):
    codes = [httpx.get(lab.url("/?status=502&fail_times=2")).status_code for _ in range(3)]
    assert codes == [502, 502, 200]


def test_invalid_json_knob(lab):
    response = httpx.get(lab.url("/?invalid_json=1"))
    assert response.status_code == 200
    try:
        response.json()
    except ValueError:
        pass
    else:
        raise AssertionError("expected invalid JSON")


def test_stall_knob_holds_the_response(lab):
    try:
        httpx.get(lab.url("/?stall=0"), timeout=0.3)
    except httpx.ReadTimeout:
        pass
    else:
        raise AssertionError("a stalled response answered")
    assert lab.state.wait_for(lambda s: len(s.requests_to("/")) >= 1)


def test_delay_knob_still_answers(lab):
    assert httpx.get(lab.url("/?delay=20")).status_code == 200


def test_requests_are_recorded(lab):
    httpx.get(lab.url("/?x=1"), headers={"X-Probe": "yes"})
    records = lab.state.requests_to("/")
    assert records and records[-1].headers["x-probe"] == "yes"
    assert records[-1].query == "x=1"


def test_ratelimit_knob_reports_the_unauthenticated_limit(lab):
    anonymous = httpx.get(lab.url("/?ratelimit=1"))
    with_token = httpx.get(lab.url("/?ratelimit=1"), headers={"Authorization": "Bearer lab-token"})
    assert anonymous.headers["x-ratelimit-limit"] == "60"
    assert with_token.headers["x-ratelimit-limit"] == str(lab.config.rate_limit)


def test_lab_listener_disables_nagle():
    # Nagle on the lab's sockets plus the client's delayed ACK stalls keep-alive requests.
    import socket

    from feedview.lab.server import _bind

    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()


def test_status_knob_204_has_no_body_and_the_connection_survives(lab):
    with httpx.Client() as client:
        first = client.get(lab.url("/?status=204"))
        second = client.get(lab.url("/"))
    assert first.status_code == 204 and first.content == b""
    assert second.status_code == 200
