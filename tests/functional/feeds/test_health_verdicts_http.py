"""The default condition's verdicts through the health feed, over HTTP: the lab's `format=`
shapes, and a loopback server for exact bytes and codes outside 2xx."""

from __future__ import annotations

import pytest
from servers import RouteServer, samples_of

from feedview.feeds.health import HealthCheck

VAULT_STANDBY = {  # /v1/sys/health of a standby node (tests/unit/test_health_verdicts.py has the others)
    "initialized": True,
    "sealed": False,
    "standby": True,
    "performance_standby": False,
    "replication_dr_mode": "disabled",
    "cluster_name": "v",
}
LAB_FORMATS = {
    # format: (verdicts for report=pass, warn, fail; the format recognised)
    "ietf": (("healthy", "degraded", "unhealthy"), "IETF health+json"),
    "spring": (("healthy", "degraded", "unhealthy"), "Spring Boot Actuator"),
    "microprofile": (("healthy", "healthy", "unhealthy"), "MicroProfile Health"),
    "aspnet": (("healthy", "degraded", "unhealthy"), "ASP.NET Core"),
    "aspnet-json": (("healthy", "degraded", "unhealthy"), "ASP.NET Core"),
    "elastic": (("healthy", "degraded", "unhealthy"), "Elasticsearch"),
    "terminus": (("healthy", "healthy", "unhealthy"), "Terminus"),
    "k8s": (("healthy", "healthy", "unhealthy"), "Kubernetes"),
    "vault": (("healthy", "degraded", "unhealthy"), "Vault"),
    "consul": (("healthy", "degraded", "unhealthy"), "Consul"),
}


@pytest.mark.parametrize("name", LAB_FORMATS)
async def test_each_lab_format_gets_its_verdicts(lab, name):
    verdicts, label = LAB_FORMATS[name]
    urls = [lab.url(f"/health/svc?format={name}&report={report}") for report in ("pass", "warn", "fail")]
    samples = sorted(await samples_of(urls, 3), key=lambda s: s.check_id)
    assert tuple(s.verdict for s in samples) == verdicts
    assert tuple(s.state for s in samples) == verdicts  # a first sample: no flapping yet
    assert [s.ok for s in samples] == [v != "unhealthy" for v in verdicts]
    assert {s.format for s in samples} == {label}
    unhealthy = samples[2]
    assert unhealthy.reason and unhealthy.error_kind in ("http", "condition")
    assert unhealthy.failures == 1 and samples[1].failures == 0  # degraded neither trips nor backs off


async def test_user_conditions_override_the_default_verdict(lab):
    warn = lab.url("/health/svc?format=elastic&report=warn")
    check = HealthCheck(warn, conditions=["[BODY].status == green"])
    [sample] = await samples_of([check], 1)
    assert (sample.verdict, sample.format, sample.reason) == ("unhealthy", None, "[BODY].status (yellow) == green")


async def test_vault_and_consul_codes_outside_2xx_over_http():
    routes = {
        "/v1/sys/health": (429, {}, VAULT_STANDBY),
        "/v1/agent/health/service/id/web?format=text": (429, {"Content-Type": "text/plain"}, b"warning"),
        "/v1/status/leader": (200, {}, ""),
    }
    async with RouteServer(routes) as server:
        urls = [server.base_url + path for path in routes]
        head = HealthCheck(server.base_url + "/v1/sys/health", method="HEAD")
        samples = {s.check_id: s for s in await samples_of([*urls, head], 4)}
    assert (samples[0].verdict, samples[0].status_code, samples[0].format) == ("healthy", 429, "Vault standby")
    assert (samples[1].verdict, samples[1].reason) == ("degraded", 'AggregatedStatus "warning"')
    assert (samples[2].verdict, samples[2].reason) == ("unhealthy", "no cluster leader")
    assert (samples[3].verdict, samples[3].format) == ("healthy", "Vault")  # HEAD: no body, the code says standby
