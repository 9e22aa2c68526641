"""The default condition's verdicts: the health formats people serve, on plain values
(tests/functional/feeds/test_health_verdicts_http.py: through the feed, over HTTP)."""

from __future__ import annotations

import json

import pytest

from feedview.feeds.health_verdicts import Reading, read_answer


def verdict(status: int, body: object, path: str = "/health", location: str | None = None) -> Reading:
    text = body if isinstance(body, str) else json.dumps(body)
    return read_answer(status, "X", text, path=path, location=location)


VAULT = {
    "initialized": True,
    "sealed": False,
    "standby": False,
    "performance_standby": False,
    "replication_dr_mode": "disabled",
    "cluster_name": "v",
}
SYS_HEALTH = "/v1/sys/health"


@pytest.mark.parametrize(
    ("status", "body", "path", "expected"),
    [
        # IETF health+json
        (200, {"status": "pass"}, "/health", Reading("healthy", None, "IETF health+json")),
        (
            200,
            {"status": "warn", "output": "disk 91%"},
            "/health",
            Reading("degraded", 'status "warn": disk 91%', "IETF health+json"),
        ),
        (
            200,
            {"status": "warn", "checks": {"disk:utilization": [{"status": "warn"}], "db": [{"status": "pass"}]}},
            "/health",
            Reading("degraded", 'status "warn" (disk:utilization)', "IETF health+json"),
        ),
        (503, {"status": "fail"}, "/health", Reading("unhealthy", "HTTP 503 X", "IETF health+json")),
        # Spring Boot Actuator
        (
            200,
            {"status": "UP", "components": {"db": {"status": "UP"}}},
            "/actuator/health",
            Reading("healthy", None, "Spring Boot Actuator"),
        ),
        (
            200,
            {"status": "UNKNOWN"},
            "/actuator/health",
            Reading("degraded", 'status "UNKNOWN"', "Spring Boot Actuator"),
        ),
        (
            200,
            {"status": "OUT_OF_SERVICE", "components": {"db": {"status": "OUT_OF_SERVICE"}, "ping": {"status": "UP"}}},
            "/actuator/health",
            Reading("unhealthy", 'status "OUT_OF_SERVICE" (db)', "Spring Boot Actuator"),
        ),
        (503, {"status": "DOWN"}, "/actuator/health", Reading("unhealthy", "HTTP 503 X", "Spring Boot Actuator")),
        # MicroProfile Health
        (
            200,
            {"status": "DOWN", "checks": [{"name": "db", "status": "DOWN"}, {"name": "ping", "status": "UP"}]},
            "/health/ready",
            Reading("unhealthy", 'status "DOWN" (db)', "MicroProfile Health"),
        ),
        (200, {"status": "UP", "checks": []}, "/health/live", Reading("healthy", None, "MicroProfile Health")),
        # ASP.NET Core: the default writer (text) and the JSON one
        (200, "Healthy", "/healthz", Reading("healthy", None, "ASP.NET Core")),
        (200, "Degraded", "/healthz", Reading("degraded", "the body says 'Degraded'", "ASP.NET Core")),
        (503, "Unhealthy", "/healthz", Reading("unhealthy", "HTTP 503 X", "ASP.NET Core")),
        (
            200,
            {
                "status": "Degraded",
                "totalDuration": "00:00:00.01",
                "entries": {"redis": {"status": "Degraded"}, "sql": {"status": "Healthy"}},
            },
            "/health",
            Reading("degraded", 'status "Degraded" (redis)', "ASP.NET Core"),
        ),
        # Elasticsearch cluster health
        (200, {"cluster_name": "c", "status": "green"}, "/_cluster/health", Reading("healthy", None, "Elasticsearch")),
        (
            200,
            {"cluster_name": "c", "status": "yellow"},
            "/_cluster/health",
            Reading("degraded", 'status "yellow"', "Elasticsearch"),
        ),
        (
            200,
            {"cluster_name": "c", "status": "red"},
            "/_cluster/health",
            Reading("unhealthy", 'status "red"', "Elasticsearch"),
        ),
        # Terminus (NestJS)
        (
            200,
            {"status": "ok", "info": {"db": {"status": "up"}}, "error": {}, "details": {"db": {"status": "up"}}},
            "/health",
            Reading("healthy", None, "Terminus"),
        ),
        (
            200,
            {
                "status": "error",
                "info": {},
                "error": {"db": {"status": "down"}, "redis": {"status": "down"}},
                "details": {"db": {"status": "down"}, "redis": {"status": "down"}},
            },
            "/health",
            Reading("unhealthy", 'status "error" (db, redis)', "Terminus"),
        ),
        (
            503,
            {"status": "shutting_down", "info": {}, "error": {}, "details": {}},
            "/health",
            Reading("unhealthy", "HTTP 503 X", "Terminus"),
        ),
        # Kubernetes
        (200, "ok", "/readyz", Reading("healthy", None, "Kubernetes")),
        (200, "[+]ping ok\n[+]etcd ok\nlivez check passed\n", "/livez?verbose", Reading("healthy", None, "Kubernetes")),
        (
            500,
            "[+]ping ok\n[-]etcd failed: reason withheld\nhealthz check failed\n",
            "/healthz",
            Reading("unhealthy", "HTTP 500 X", "Kubernetes"),
        ),
        # Vault: the body decides (every code can be changed); without one (HEAD), the code
        (200, VAULT, SYS_HEALTH, Reading("healthy", None, "Vault")),
        (429, {**VAULT, "standby": True}, SYS_HEALTH, Reading("healthy", None, "Vault standby")),
        (200, {**VAULT, "standby": True}, SYS_HEALTH + "?standbyok=true", Reading("healthy", None, "Vault standby")),
        (473, {**VAULT, "performance_standby": True}, SYS_HEALTH, Reading("healthy", None, "Vault standby")),
        (
            472,
            {**VAULT, "replication_dr_mode": "secondary"},
            SYS_HEALTH,
            Reading("degraded", "Vault is a DR secondary (it serves no clients)", "Vault"),
        ),
        (503, {**VAULT, "sealed": True}, SYS_HEALTH, Reading("unhealthy", "Vault is sealed", "Vault")),
        (
            501,
            {**VAULT, "initialized": False, "sealed": True},
            SYS_HEALTH,
            Reading("unhealthy", "Vault is not initialised", "Vault"),
        ),
        (429, "", SYS_HEALTH, Reading("healthy", None, "Vault")),
        (472, "", SYS_HEALTH, Reading("degraded", "Vault is a DR secondary (it serves no clients)", "Vault")),
        (503, "", SYS_HEALTH, Reading("unhealthy", "Vault is sealed", "Vault")),
        (501, "", SYS_HEALTH, Reading("unhealthy", "Vault is not initialised", "Vault")),
        (500, "", SYS_HEALTH, Reading("unhealthy", "HTTP 500 X")),
        (429, "", "/health", Reading("unhealthy", "HTTP 429 X")),  # elsewhere, 429 is Too Many Requests
        # Consul
        (200, '"10.0.0.1:8300"', "/v1/status/leader", Reading("healthy", None, "Consul")),
        (200, '""', "/v1/status/leader", Reading("unhealthy", "no cluster leader", "Consul")),
        (
            429,
            {"AggregatedStatus": "warning", "Checks": [{"Name": "disk", "Status": "warning"}]},
            "/v1/agent/health/service/id/web",
            Reading("degraded", 'AggregatedStatus "warning" (disk)', "Consul"),
        ),
        (
            503,
            [
                {"AggregatedStatus": "passing", "Checks": []},
                {"AggregatedStatus": "critical", "Checks": [{"Name": "web2 check", "Status": "critical"}]},
            ],
            "/v1/agent/health/service/name/web",
            Reading("unhealthy", 'AggregatedStatus "critical" (web2 check)', "Consul"),
        ),
        (200, {"AggregatedStatus": "passing"}, "/v1/agent/health/service/id/web", Reading("healthy", None, "Consul")),
        (
            429,
            "warning",
            "/v1/agent/health/service/id/web",
            Reading("degraded", 'AggregatedStatus "warning"', "Consul"),
        ),
        (
            503,
            "maintenance",
            "/v1/agent/health/service/id/web",
            Reading("unhealthy", 'AggregatedStatus "maintenance"', "Consul"),
        ),
        (
            200,
            [
                {"CheckID": "serfHealth", "Status": "passing"},
                {"CheckID": "service:redis", "Name": "redis", "Status": "critical"},
            ],
            "/v1/health/checks/redis",
            Reading("unhealthy", "checks not passing (redis)", "Consul"),
        ),
        (
            200,
            [{"CheckID": "serfHealth", "Status": "passing"}],
            "/v1/health/node/n1",
            Reading("healthy", None, "Consul"),
        ),
        # anything else
        (200, {"status": "starting"}, "/health", Reading("unhealthy", 'status "starting"')),
        (200, {"status": {"deep": [1]}}, "/health", Reading("unhealthy", "status {…}")),
        (200, {"version": "1"}, "/health", Reading("healthy")),
        (200, [1, 2], "/health", Reading("healthy")),
        (200, "<html>fine</html>", "/", Reading("healthy")),
        (200, '{"a":' * 50_000, "/", Reading("healthy")),  # not JSON (nested too deeply): a 2xx page
        (204, "", "/", Reading("healthy")),
    ],
)
def test_the_verdict_table(status, body, path, expected):
    assert verdict(status, body, path.split("?")[0]) == expected


def test_a_redirect_names_where_it_points():
    assert verdict(301, "", location="https://elsewhere/") == Reading("unhealthy", "HTTP 301 X to https://elsewhere/")


def test_many_troubled_components_are_counted_not_listed():
    components = {f"c{i}": {"status": "DOWN"} for i in range(200)}
    reading = verdict(200, {"status": "DOWN", "components": components})
    assert reading.reason == 'status "DOWN" (c0, c1, c2, +61 more)'  # 64 read, 3 named


# --- through the feed, against the lab's format= shapes ----------------------------------
