"""What a health endpoint's answer says (healthy, degraded or unhealthy), in the formats people serve.

This is the default condition: the verdict of a check that has no `-c` conditions of
its own. The HTTP status decides, unless a body in a known format says more:

  format                   recognised by                         healthy          degraded        unhealthy
  IETF health+json         JSON `status` pass/warn/fail          pass (ok, up)    warn            fail (error, down)
  Spring Boot Actuator     JSON `status` UP/DOWN/...             UP               UNKNOWN         DOWN, OUT_OF_SERVICE
  MicroProfile Health      JSON `status` UP/DOWN + `checks` list UP                               DOWN
  ASP.NET Core             `Healthy`/`Degraded`/`Unhealthy`,     Healthy          Degraded        Unhealthy
                           as plain text or JSON `status`
  Elasticsearch            JSON `status` green/yellow/red        green            yellow, unknown red, unavailable
  Terminus (NestJS)        JSON `status` ok/error/shutting_down  ok                               error, shutting_down
  Kubernetes               plain text `ok`, or verbose           ok, "... check   (none)          HTTP 500 "... check
                           `[+]...` lines ending "check passed"  passed"                          failed"
  Vault /v1/sys/health     JSON `initialized`/`sealed`/`standby` active (200),    DR secondary    not initialised (501),
                           booleans, or (HEAD) that path         standby (429),   (472)           sealed (503), removed
                                                                 perf. standby (473)               from the cluster
  Consul agent health      JSON `AggregatedStatus`, or text      passing (200)    warning (429)   critical, maintenance
                           under /v1/agent/health/                                                 (503)
  Consul checks            JSON list of `CheckID`+`Status`       all passing      worst warning   any critical
  Consul leader            path /v1/status/leader                a leader address                 "" (no leader)

Rules, in order:
1. Vault and Consul answer "working" with codes outside 2xx (429, 472, 473): their
   answers are read before the HTTP status. A Vault body decides over its code, as
   Vault lets every code be changed (`standbycode=` ...).
2. Any other status outside 2xx is unhealthy (a redirect names where it points).
3. A 2xx JSON object with a top-level `status` is read by the word table; a status
   that is no known word, or not a string, is unhealthy. An object without one passes.
4. A 2xx JSON list of Consul checks is as healthy as its worst check.
5. A 2xx plain-text body that is one status word, or Kubernetes' verbose report, is
   read by the word table; any other 2xx answer (HTML, "all good") is healthy.

Why Vault standbys are healthy: a standby (429) or performance standby (473) is an
unsealed member doing its job in an HA cluster; a dashboard of three Vault nodes
would otherwise show two of them in trouble for good. A DR secondary (472) is
degraded: it runs and replicates but serves no client, so it is worth a second look
if it was meant to serve. Not initialised (501) and sealed (503) serve nothing.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from .check_history import Verdict
from .transport import NotJson, loads_json

_UNHEALTHY_WORDS = "fail error down unhealthy red critical out_of_service shutting_down maintenance unavailable"
_WORDS: dict[str, Verdict] = {
    **dict.fromkeys(("pass", "ok", "up", "healthy", "green", "passing"), "healthy"),
    **dict.fromkeys(("warn", "warning", "degraded", "yellow", "unknown"), "degraded"),
    **dict.fromkeys(_UNHEALTHY_WORDS.split(), "unhealthy"),
}
_RANK: dict[Verdict, int] = {"healthy": 0, "degraded": 1, "unhealthy": 2}
_TEXT_WORD_LIMIT = 32  # a plain-text body longer than this is not one status word
_PARTS_SHOWN = 3  # failing components named in a reason
_PARTS_READ = 64  # components looked at, however many a body lists
_NOT_JSON = object()
_TEXT_FORMATS = {  # who answers a health check with this one word of plain text
    "ok": "Kubernetes",
    **dict.fromkeys(("healthy", "degraded", "unhealthy"), "ASP.NET Core"),
    **dict.fromkeys(("passing", "warning", "critical", "maintenance"), "Consul"),
}


class Reading(msgspec.Struct, frozen=True):
    """One answer's verdict; `reason` (None when healthy) is raw text for the caller to clean.
    (A struct: one is made for every sample, in a fifth of a frozen dataclass's time.)"""

    verdict: Verdict
    reason: str | None = None
    format: str | None = None  # the format recognised, if any (for the detail view)


def read_answer(status_code: int, reason_phrase: str, body: str, *, path: str, location: str | None) -> Reading:
    """The default condition's verdict on one answer. `path`: the check URL's path."""
    document = _json(body)
    special = _vault(status_code, document, path) or _consul(status_code, document, body, path)
    if special is not None:
        return special
    said = _what_the_body_says(document, body)
    if not 200 <= status_code < 300:
        reason = f"HTTP {status_code} {reason_phrase}".rstrip()
        if 300 <= status_code < 400 and location:
            reason += f" to {location}"
        return Reading("unhealthy", reason, said.format)
    return said


def _what_the_body_says(document: Any, body: str) -> Reading:
    if isinstance(document, dict) and "status" in document:
        return _status_document(document)
    if isinstance(document, list):
        return _consul_checks(document) or Reading("healthy")
    if document is _NOT_JSON:
        return _plain_text(body)
    return Reading("healthy")


def _json(body: str) -> Any:
    if not body.lstrip().startswith(("{", "[", '"')):
        return _NOT_JSON
    try:
        return loads_json(body)
    except NotJson:
        return _NOT_JSON


def _word(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) else None


def _status_document(document: dict[str, Any]) -> Reading:
    status = document["status"]
    word = _word(status)
    verdict = _WORDS.get(word or "", "unhealthy")
    label = _format_of(word, document) if word in _WORDS else None
    if verdict == "healthy":
        return Reading("healthy", format=label)
    reason = f"status {_show(status)}"
    parts = _troubled_parts(document)
    if parts:
        reason += f" ({parts})"
    elif isinstance(document.get("output"), str) and document["output"].strip():
        reason += f": {document['output']}"  # IETF: the failure's own words
    return Reading(verdict, reason, label)


def _format_of(word: str | None, document: dict[str, Any]) -> str:
    if "cluster_name" in document or word in ("green", "yellow", "red", "unavailable"):
        return "Elasticsearch"
    if word in ("pass", "warn", "fail"):
        return "IETF health+json"
    if word in ("up", "down", "out_of_service", "unknown"):
        return "MicroProfile Health" if isinstance(document.get("checks"), list) else "Spring Boot Actuator"
    if word in ("healthy", "degraded", "unhealthy"):
        return "ASP.NET Core"
    if word in ("ok", "error", "shutting_down") and any(k in document for k in ("info", "error", "details")):
        return "Terminus"
    if word in ("passing", "warning", "critical", "maintenance"):
        return "Consul"
    return "JSON status"


def _troubled_parts(document: dict[str, Any]) -> str:
    """The components a health document says are not healthy, named (a few, then a count)."""
    names: list[str] = []
    for key in ("components", "details", "entries", "checks", "Checks", "error"):
        parts = document.get(key)
        if isinstance(parts, dict):
            pairs = list(parts.items())[:_PARTS_READ]
        elif isinstance(parts, list):
            pairs = [(_part_name(p), p) for p in parts[:_PARTS_READ] if isinstance(p, dict)]
        else:
            continue
        for name, part in pairs:
            if isinstance(part, list) and part and isinstance(part[0], dict):
                part = part[0]  # IETF: name -> [observations]
            if not isinstance(part, dict):
                continue
            word = _word(part.get("status", part.get("Status")))
            label = str(name)[:40]
            if (key == "error" or (word is not None and _WORDS.get(word) != "healthy")) and label not in names:
                names.append(label)
    if not names:
        return ""
    shown = ", ".join(names[:_PARTS_SHOWN])
    return shown if len(names) <= _PARTS_SHOWN else f"{shown}, +{len(names) - _PARTS_SHOWN} more"


def _part_name(part: dict[str, Any]) -> str:
    return str(part.get("name") or part.get("Name") or part.get("CheckID") or "?")


def _plain_text(body: str) -> Reading:
    text = body.strip()
    word = text.lower()
    if len(text) <= _TEXT_WORD_LIMIT and word in _WORDS:
        verdict = _WORDS[word]
        label = _TEXT_FORMATS.get(word)
        return Reading(verdict, None if verdict == "healthy" else f"the body says {text!r}", label)
    last_line = text.rsplit("\n", 1)[-1].strip()
    if last_line.endswith(" check passed") and text.startswith("[+]"):
        return Reading("healthy", format="Kubernetes")
    if last_line.endswith(" check failed") and text.startswith(("[+]", "[-]")):
        failed = [line[3:].split(" ", 1)[0] for line in text.splitlines()[:_PARTS_READ] if line.startswith("[-]")]
        return Reading("unhealthy", f"{last_line} ({', '.join(failed[:_PARTS_SHOWN])})", "Kubernetes")
    return Reading("healthy")


# --- Vault and Consul: "working" with codes outside 2xx ----------------------------------

_VAULT_CODES: dict[int, tuple[Verdict, str | None]] = {
    200: ("healthy", None),
    429: ("healthy", None),  # unsealed standby
    473: ("healthy", None),  # performance standby
    472: ("degraded", "Vault is a DR secondary (it serves no clients)"),
    501: ("unhealthy", "Vault is not initialised"),
    503: ("unhealthy", "Vault is sealed"),
}


def _vault(status_code: int, document: Any, path: str) -> Reading | None:
    is_vault = (
        isinstance(document, dict)
        and isinstance(document.get("sealed"), bool)
        and isinstance(document.get("initialized"), bool)
        and isinstance(document.get("standby"), bool)
    )
    if is_vault:
        if not document["initialized"]:
            return Reading("unhealthy", "Vault is not initialised", "Vault")
        if document["sealed"]:
            return Reading("unhealthy", "Vault is sealed", "Vault")
        if document.get("removed_from_cluster") is True:
            return Reading("unhealthy", "Vault was removed from its cluster", "Vault")
        if document["standby"] or document.get("performance_standby") is True:
            return Reading("healthy", format="Vault standby")
        if document.get("replication_dr_mode") == "secondary":
            return Reading("degraded", _VAULT_CODES[472][1], "Vault")
        return Reading("healthy", format="Vault")
    if document is _NOT_JSON and path.rstrip("/").endswith("/v1/sys/health") and status_code in _VAULT_CODES:
        verdict, reason = _VAULT_CODES[status_code]  # HEAD: the code is all there is
        return Reading(verdict, reason, "Vault")
    return None


_CONSUL_CODES = {"passing": 200, "warning": 429, "critical": 503, "maintenance": 503}


def _consul(status_code: int, document: Any, body: str, path: str) -> Reading | None:
    if path.rstrip("/").endswith("/v1/status/leader"):
        if not (200 <= status_code < 300 and isinstance(document, str)):
            return None
        return Reading("healthy", format="Consul") if document else Reading("unhealthy", "no cluster leader", "Consul")
    if isinstance(document, dict) and "AggregatedStatus" not in document:
        return None  # most answers: no Consul agent's
    services = document if isinstance(document, list) else [document]
    entries = [s for s in services[:_PARTS_READ] if isinstance(s, dict)]
    statuses = [s["AggregatedStatus"] for s in entries if isinstance(s.get("AggregatedStatus"), str)]
    if statuses and len(statuses) == len(entries):
        worst = max(statuses, key=lambda s: _RANK[_WORDS.get(_word(s) or "", "unhealthy")])
        return _consul_reading(
            worst,
            [
                c
                for s in services[:_PARTS_READ]
                if isinstance(s, dict)
                for c in (s.get("Checks") or [])
                if isinstance(c, dict)
            ],
        )
    word = body.strip().lower()
    if document is _NOT_JSON and "/v1/agent/health/" in path and _CONSUL_CODES.get(word) == status_code:
        return _consul_reading(word, [])
    return None


def _consul_reading(status: str, checks: list[dict[str, Any]]) -> Reading:
    verdict = _WORDS.get(_word(status) or "", "unhealthy")
    if verdict == "healthy":
        return Reading("healthy", format="Consul")
    reason = f"AggregatedStatus {_show(status)}"
    parts = _troubled_parts({"Checks": checks})
    return Reading(verdict, f"{reason} ({parts})" if parts else reason, "Consul")


def _consul_checks(document: list[Any]) -> Reading | None:
    checks = [c for c in document[:_PARTS_READ] if isinstance(c, dict) and "CheckID" in c and "Status" in c]
    if not checks or len(checks) != len(document[:_PARTS_READ]):
        return None
    words = [_word(c["Status"]) or "" for c in checks]
    verdict = max((_WORDS.get(w, "unhealthy") for w in words), key=_RANK.__getitem__)
    if verdict == "healthy":
        return Reading("healthy", format="Consul")
    return Reading(verdict, f"checks not passing ({_troubled_parts({'Checks': checks})})", "Consul")


def _show(value: Any) -> str:
    """A JSON value for a reason: strings quoted, containers never expanded, at most 60 characters."""
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list):
        return "[…]"
    return json.dumps(value)[:60]
