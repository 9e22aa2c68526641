"""The lab's generated GitHub catalogue: a few owners and their repositories.

Deterministic for a seed, so tests and benchmarks see the same names, dates
and counts every run. Repos are GitHub-shaped dicts minus the API URLs, which
depend on the lab's address and are filled in per response (see repos.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Owner:
    login: str
    id: int
    type: str  # "User" or "Organization"
    public_repos: int
    private_repos: int = 0


OWNERS = (
    Owner("octo-org", 9919, "Organization", 1234),
    Owner("mona", 583231, "User", 48, private_repos=9),
    Owner("hubot", 480938, "User", 12),
    Owner("octocat", 583232, "User", 8),
    Owner("empty-org", 700001, "Organization", 0),
)
AUTHENTICATED_LOGIN = "mona"  # whose token the lab's LabConfig.token is

_PREFIXES = (
    "octo",
    "hello",
    "spoon",
    "mona",
    "hub",
    "git",
    "cloud",
    "data",
    "fast",
    "tiny",
    "async",
    "web",
    "api",
    "pixel",
    "rusty",
    "py",
    "node",
    "go",
    "docs",
    "terra",
    "quick",
    "micro",
    "open",
    "deep",
    "smart",
    "secure",
    "super",
    "little",
    "happy",
    "swift",
)
_NOUNS = (
    "world",
    "knife",
    "cat",
    "cli",
    "sdk",
    "server",
    "client",
    "parser",
    "router",
    "cache",
    "queue",
    "bot",
    "kit",
    "tools",
    "lint",
    "fmt",
    "sync",
    "feed",
    "dash",
    "store",
    "proxy",
    "graph",
    "ui",
    "engine",
    "scheduler",
    "notes",
    "tracker",
    "action",
    "template",
    "infra",
    "helm",
    "config",
    "metrics",
    "logs",
    "auth",
    "vault",
    "search",
    "pipeline",
    "runner",
    "widgets",
    "theme",
)
_SUFFIXES = ("", "", "", "", "-v2", "-legacy", "-example", "-demo", "-rs", "-py", "-js", "-go")
_LANGUAGES = (
    ("Python", 18),
    ("TypeScript", 16),
    ("JavaScript", 12),
    ("Go", 12),
    ("Rust", 9),
    ("Java", 6),
    ("Ruby", 5),
    ("C++", 4),
    ("C", 3),
    ("Shell", 5),
    ("HCL", 3),
    ("Kotlin", 2),
    (None, 5),
)
_LICENSES = (
    ("mit", "MIT License", "MIT", 40),
    ("apache-2.0", "Apache License 2.0", "Apache-2.0", 25),
    ("bsd-3-clause", 'BSD 3-Clause "New" or "Revised" License', "BSD-3-Clause", 6),
    ("gpl-3.0", "GNU General Public License v3.0", "GPL-3.0", 6),
    ("mpl-2.0", "Mozilla Public License 2.0", "MPL-2.0", 3),
    ("other", "Other", "NOASSERTION", 3),
    (None, None, None, 17),
)
_WHAT = {
    "cli": "command-line tool",
    "sdk": "SDK",
    "server": "server",
    "client": "client library",
    "parser": "parser",
    "router": "HTTP router",
    "cache": "cache",
    "queue": "job queue",
    "bot": "chat bot",
    "kit": "starter kit",
    "tools": "set of tools",
    "lint": "linter",
    "fmt": "formatter",
    "sync": "sync daemon",
    "feed": "feed reader",
    "dash": "dashboard",
    "store": "key-value store",
    "proxy": "reverse proxy",
    "graph": "graph library",
    "ui": "UI component library",
    "engine": "rendering engine",
    "scheduler": "task scheduler",
    "notes": "note-taking app",
    "tracker": "issue tracker",
    "action": "GitHub Action",
    "template": "project template",
    "infra": "infrastructure as code",
    "helm": "Helm chart",
    "config": "configuration loader",
    "metrics": "metrics exporter",
    "logs": "log shipper",
    "auth": "authentication service",
    "vault": "secrets manager",
    "search": "search index",
    "pipeline": "data pipeline",
    "runner": "CI runner",
    "widgets": "widget set",
    "theme": "editor theme",
    "world": "first repository",
    "knife": "fork-me example",
    "cat": "mascot gallery",
}
_FOR = (
    "for small teams",
    "for GitHub Enterprise Server",
    "that stays out of your way",
    "written in a weekend",
    "with zero dependencies",
    "for the terminal",
    "with batteries included",
    "for Kubernetes clusters",
    "that never drops a message",
    "for people who hate YAML",
    "built for speed",
    "used in production at Octo",
)
_TOPICS = {
    "Python": ("python", "asyncio", "cli"),
    "TypeScript": ("typescript", "nodejs", "react"),
    "JavaScript": ("javascript", "nodejs", "browser"),
    "Go": ("golang", "kubernetes", "grpc"),
    "Rust": ("rust", "wasm", "performance"),
    "Java": ("java", "spring", "jvm"),
    "Ruby": ("ruby", "rails"),
    "C++": ("cpp", "graphics"),
    "C": ("c", "embedded"),
    "Shell": ("bash", "dotfiles"),
    "HCL": ("terraform", "aws"),
    "Kotlin": ("kotlin", "android"),
}
# Text from the network is untrusted: the lab serves some on purpose, for the UI's sake.
_HOSTILE = {"name": "escape-room", "description": "Renders [bold]markup[/] and \x1b[31mANSI\x1b[0m literally [/]"}

_EPOCH = datetime(2011, 3, 1, tzinfo=UTC)
_SPAN_DAYS = 15 * 365


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _weighted(rng: random.Random, table: tuple) -> Any:
    return rng.choices(table, weights=[row[-1] for row in table])[0]


def _names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(_PREFIXES)}-{rng.choice(_NOUNS)}{rng.choice(_SUFFIXES)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _repo(rng: random.Random, owner: Owner, name: str, repo_id: int, private: bool) -> dict[str, Any]:
    noun = next((n for n in _NOUNS if f"-{n}" in name), "world")
    language = _weighted(rng, _LANGUAGES)[0]
    key, licence_name, spdx, _ = _weighted(rng, _LICENSES)
    created = _EPOCH + timedelta(seconds=rng.randrange(_SPAN_DAYS * 86400))
    updated = created + timedelta(
        seconds=rng.randrange(max(1, int((_EPOCH + timedelta(days=_SPAN_DAYS) - created).total_seconds())))
    )
    pushed = updated - timedelta(seconds=rng.randrange(3 * 86400))
    stars = int(rng.paretovariate(1.1) * 3) - 3
    fork = rng.random() < 0.1
    archived = rng.random() < 0.06
    topics = sorted(
        {
            *rng.sample(
                _TOPICS.get(language, ("documentation",)), k=min(2, len(_TOPICS.get(language, ("documentation",))))
            ),
            noun,
        }
    )
    return {
        "id": repo_id,
        "node_id": f"R_lab{repo_id}",
        "name": name,
        "full_name": f"{owner.login}/{name}",
        "private": private,
        "owner": {
            "login": owner.login,
            "id": owner.id,
            "node_id": f"U_lab{owner.id}",
            "type": owner.type,
            "site_admin": False,
            "avatar_url": f"https://avatars.githubusercontent.com/u/{owner.id}?v=4",
            "html_url": f"https://github.com/{owner.login}",
        },
        "html_url": f"https://github.com/{owner.login}/{name}",
        "description": f"A {_WHAT.get(noun, noun)} {rng.choice(_FOR)}" if rng.random() < 0.9 else None,
        "fork": fork,
        "created_at": _stamp(created),
        "updated_at": _stamp(updated),
        "pushed_at": _stamp(max(pushed, created)),
        "homepage": f"https://{owner.login}.github.io/{name}" if rng.random() < 0.2 else None,
        "size": rng.randrange(1, 250_000),
        "stargazers_count": stars,
        "watchers_count": stars,
        "language": language,
        "has_issues": True,
        "has_projects": True,
        "has_wiki": rng.random() < 0.5,
        "has_pages": rng.random() < 0.2,
        "forks_count": int(stars * rng.random() * 0.3),
        "archived": archived,
        "disabled": False,
        "open_issues_count": 0 if archived else int(rng.paretovariate(1.5) * 2) - 2,
        "license": None
        if key is None
        else {"key": key, "name": licence_name, "spdx_id": spdx, "node_id": f"MDc6TGljZW5zZ{key}"},
        "allow_forking": True,
        "is_template": name.endswith("-template"),
        "topics": topics,
        "visibility": "private" if private else "public",
        "default_branch": "main" if created.year >= 2020 else "master",
    }


@lru_cache(maxsize=8)
def catalogue(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Every owner's repositories (public first, then private), by login."""
    result: dict[str, list[dict[str, Any]]] = {}
    for number, owner in enumerate(OWNERS):
        rng = random.Random(f"{seed}:{owner.login}")
        total = owner.public_repos + owner.private_repos
        names = _names(rng, total)
        repos = [
            _repo(rng, owner, name, 10_000_000 + number * 100_000 + i, private=i >= owner.public_repos)
            for i, name in enumerate(names)
        ]
        if owner.login == "hubot":
            repos[0].update(_HOSTILE)
            repos[0]["full_name"] = f"{owner.login}/{_HOSTILE['name']}"
            repos[0]["html_url"] = f"https://github.com/{owner.login}/{_HOSTILE['name']}"
        result[owner.login] = repos
    return result


def owner_by_login(login: str) -> Owner | None:
    return next((o for o in OWNERS if o.login.lower() == login.lower()), None)


def owner_by_id(owner_id: int) -> Owner | None:
    return next((o for o in OWNERS if o.id == owner_id), None)
