"""The lab's health endpoints: the IETF draft's shape, presets and knobs, over loopback HTTP."""

from __future__ import annotations

import threading

import httpx

from feedview.lab import LabConfig, start_lab


def statuses(lab, path: str, n: int) -> list[str]:
    # Connection: close because a kept-alive sync connection to the lab pays ~40 ms a request
    with httpx.Client(headers={"Connection": "close"}) as client:
        return [client.get(lab.url(path)).json()["status"] for _ in range(n)]


def test_api_preset_passes_in_the_drafts_shape(lab):
    response = httpx.get(lab.url("/health/api"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/health+json"
    assert response.headers["cache-control"] == "no-cache"
    document = response.json()
    assert document["status"] == "pass"
    assert {"version", "releaseId", "serviceId", "description", "checks"} <= document.keys()
    assert "output" not in document
    component = document["checks"]["api:responseTime"][0]
    assert component["observedUnit"] == "ms" and component["status"] == "pass"


def test_legacy_preset_fails_with_503_and_output(lab):
    response = httpx.get(lab.url("/health/legacy"))
    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    assert response.json()["output"]


def test_search_preset_is_slow(lab):
    document = httpx.get(lab.url("/health/search"), timeout=5).json()
    assert document["status"] == "pass"
    assert 400 <= document["checks"]["search:responseTime"][0]["observedValue"] <= 900


def test_payments_preset_flaps_and_a_knob_overrides_it(lab):
    assert httpx.get(lab.url("/health/payments?flap=3600")).json()["status"] == "pass"
    assert httpx.get(lab.url("/health/payments?report=warn")).json()["status"] == "warn"


def test_any_other_name_passes_and_head_works(lab):
    assert httpx.get(lab.url("/health/whatever")).json()["serviceId"] == "lab-whatever"
    head = httpx.head(lab.url("/health/whatever"))
    assert head.status_code == 200 and head.content == b""


def test_report_knob(lab):
    warn = httpx.get(lab.url("/health/x?report=warn"))
    assert warn.status_code == 200 and warn.json()["status"] == "warn" and warn.json()["output"]
    assert httpx.get(lab.url("/health/x?report=fail")).status_code == 503


def test_pattern_knob_follows_the_names_counter(lab):
    assert statuses(lab, "/health/p?pattern=pwf", 5) == ["pass", "warn", "fail", "pass", "warn"]
    assert lab.state.counters["health:p"] == 5


def test_fail_rate_is_deterministic_by_seed():
    def run(seed: int) -> list[str]:
        with start_lab(LabConfig(seed=seed)) as lab:
            return statuses(lab, "/health/db?fail_rate=0.5", 12)

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert 0 < first.count("fail") < 12


def test_fail_rate_extremes(lab):
    assert set(statuses(lab, "/health/a?fail_rate=1", 5)) == {"fail"}
    assert set(statuses(lab, "/health/b?fail_rate=0", 5)) == {"pass"}


def test_flap_knob_alternates_over_time(lab):
    seen: set[str] = set()
    with httpx.Client(headers={"Connection": "close"}) as client:
        for _ in range(2000):
            seen.add(client.get(lab.url("/health/f?flap=0.05")).json()["status"])
            if seen == {"pass", "fail"}:
                break
    assert seen == {"pass", "fail"}


def test_latency_knob_holds_the_answer_until_the_client_leaves(lab):
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(lab.url("/health/slow?latency_ms=60000"), timeout=httpx.Timeout(5, read=0.5))
        except httpx.ReadTimeout as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    assert lab.state.wait_for(lambda s: s.counters.get("health:in_flight") == 1)
    thread.join(timeout=5)
    assert errors, "a 60 s latency answered early"
    # the client left after 0.5 s: the lab stops preparing the answer at once
    assert lab.state.wait_for(lambda s: s.counters.get("health:in_flight") == 0, timeout=5)


def test_bad_knob_is_a_400_with_one_line(lab):
    for query in ("fail_rate=2", "fail_rate=x", "pattern=pxq", "report=maybe", "flap=0", "format=soap"):
        response = httpx.get(lab.url(f"/health/x?{query}"))
        assert response.status_code == 400, query
        assert "\n" not in response.json()["message"]


def test_endpoints_are_listed_on_the_index(lab):
    paths = [e["path"] for e in httpx.get(lab.url("/")).json()["endpoints"]]
    assert {"/health/{name}", "/health/api", "/health/search", "/health/payments", "/health/legacy"} <= set(paths)


FORMAT_ANSWERS = {
    # format: (HTTP status, media type, what identifies the shape) for report=pass, warn, fail
    "spring": ((200, 200, 503), "application/vnd.spring-boot.actuator.v3+json", ("UP", "UNKNOWN", "DOWN")),
    "microprofile": ((200, 200, 503), "application/json", ("UP", "UP", "DOWN")),
    "aspnet": ((200, 200, 503), "text/plain", ("Healthy", "Degraded", "Unhealthy")),
    "aspnet-json": ((200, 200, 503), "application/json", ("Healthy", "Degraded", "Unhealthy")),
    "elastic": ((200, 200, 200), "application/json", ("green", "yellow", "red")),
    "terminus": ((200, 200, 503), "application/json", ("ok", "ok", "error")),
    "k8s": ((200, 200, 500), "text/plain", ("ok", "ok", "healthz check failed")),
    "vault": ((200, 472, 503), "application/json", (False, False, True)),  # sealed
    "consul": ((200, 429, 503), "application/json", ("passing", "warning", "critical")),
}


def shape_of(name: str, response: httpx.Response) -> object:
    if name in ("aspnet", "k8s"):
        return response.text.strip().splitlines()[-1]
    document = response.json()
    if name == "vault":
        assert {"initialized", "standby", "replication_dr_mode"} <= document.keys()
        return document["sealed"]
    if name == "consul":
        assert document["Checks"][0]["Status"] == document["AggregatedStatus"]
        return document["AggregatedStatus"]
    if name == "microprofile":
        assert document["checks"] == [{"name": "svc", "status": document["status"]}]
    if name == "aspnet-json":
        assert document["entries"]["svc"]["status"] == document["status"]
    if name == "elastic":
        assert document["cluster_name"] == "lab-svc"
    if name == "terminus":
        assert set(document) == {"status", "info", "error", "details"}
    return document["status"]


def test_format_knob_serves_each_shape_with_its_codes_and_media_type(lab):
    with httpx.Client(headers={"Connection": "close"}) as client:
        for name, (codes, media_type, shapes) in FORMAT_ANSWERS.items():
            for report, code, shape in zip(("pass", "warn", "fail"), codes, shapes, strict=True):
                response = client.get(lab.url(f"/health/svc?format={name}&report={report}"))
                assert response.status_code == code, (name, report)
                assert response.headers["content-type"].startswith(media_type), (name, report)
                assert shape_of(name, response) == shape, (name, report)


def test_format_knob_keeps_the_presets_way_of_deciding(lab):
    response = httpx.get(lab.url("/health/legacy?format=spring"))  # legacy always fails
    assert (response.status_code, response.json()["status"]) == (503, "DOWN")
    assert httpx.get(lab.url("/health/api?format=ietf")).json()["status"] == "pass"
