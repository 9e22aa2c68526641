"""Lab endpoints: GitHub notifications, polled the way GitHub's API asks.

GET /notifications and /repos/{owner}/{repo}/notifications answer with
Last-Modified and X-Poll-Interval, 304 (free) to an If-Modified-Since that is
up to date, and Link pages of at most 50. PATCH /notifications/threads/{id}
marks a thread read (205). Instance knobs, in LabConfig.extra:

  notifications_poll_interval  X-Poll-Interval in seconds (default 10; fractions allowed for tests)
  notifications_poll_growth    seconds added to X-Poll-Interval after every poll (GitHub under load)
  notifications_new_every      a new thread arrives every S seconds (default 20; 0: never)
  notifications_refuse_read    PATCH answers 403, as for a token that may read but not write
  notifications_forbidden      every notifications request answers 403, as for a fine-grained token

Per-request knob: `poll_interval=X` sends `X-Poll-Interval: X` as given (1e300, 0.000001, nan).

Changes get whole, strictly increasing seconds, so Last-Modified (an HTTP date)
never hides a change made within the same second as the last poll.
"""

from __future__ import annotations

import math
import random
import time
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import github_api as api
from .catalogue import catalogue
from .faults import knobs
from .state import LabConfig, LabState

# (method and path, what it is) for `feedview lab` and the index page
ENDPOINTS: list[tuple[str, str]] = [
    (
        "/notifications",
        "GitHub notifications (needs the token): Last-Modified, 304, X-Poll-Interval, all, "
        "participating; poll_interval=X",
    ),
    ("/repos/{owner}/{repo}/notifications", "one repository's notification threads"),
    ("/notifications/threads/{id}", "one thread; PATCH marks it read"),
    ("/_lab/notifications/threads", "POST {reason, title, type, repo}: a new thread; POST .../{id}/touch: an update"),
]

PARTICIPATING = {"assign", "author", "comment", "manual", "mention", "review_requested", "state_change"}
REASONS = (
    "mention",
    "review_requested",
    "assign",
    "author",
    "comment",
    "subscribed",
    "team_mention",
    "ci_activity",
    "state_change",
    "security_alert",
)
SUBJECTS = {
    "Issue": (
        "issues",
        (
            "Crash when the config file is empty",
            "Support GitHub Enterprise Server 3.12",
            "Docs: the example in the README is out of date",
            "Flaky test on Windows runners",
        ),
    ),
    "PullRequest": (
        "pulls",
        (
            "Add retry with backoff to the client",
            "Bump httpx from 0.27 to 0.28",
            "Fix off-by-one in pagination",
            "Make the token optional for public repos",
        ),
    ),
    "Release": ("releases", ("v2.4.0", "v3.0.0-rc.1", "v1.9.2")),
    "Commit": ("commits", ("Fix typo in CONTRIBUTING.md", "Refactor the cache layer")),
    "CheckSuite": (None, ("CI workflow run failed for main branch", "Nightly build succeeded")),
    "Discussion": (None, ("RFC: a plugin system", "How do you run this behind a proxy?")),
}
MAX_PER_PAGE = 50


def _stamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class Inbox:
    """The token holder's notification threads and the clock of their changes."""

    def __init__(self, config: LabConfig) -> None:
        self.config = config
        self.rng = random.Random(f"{config.seed}:notifications")
        self.started = time.time()
        self.last_change = int(self.started) - 1
        self.threads: list[dict[str, Any]] = []
        self.arrived = 0
        self.polls: dict[str, int] = {}
        self.repos = [r for repos in catalogue(config.seed).values() for r in repos if not r["fork"]][:400:7]
        for age in range(14, 0, -1):
            self.add(updated=int(self.started) - age * 3037, unread=age % 3 != 0)

    def tick(self, at: float | None = None) -> int:
        """The next change's time: now (or `at`), but always at least a second after the last one."""
        self.last_change = max(int(time.time() if at is None else at), self.last_change + 1)
        return self.last_change

    def add(
        self,
        reason: str | None = None,
        title: str | None = None,
        subject_type: str | None = None,
        repo: str | None = None,
        updated: int | None = None,
        unread: bool = True,
    ) -> dict[str, Any]:
        rng = self.rng
        subject_type = subject_type if subject_type in SUBJECTS else rng.choice(list(SUBJECTS))
        kind, titles = SUBJECTS[subject_type]
        repository = next((r for r in self.repos if r["full_name"] == repo), None) or rng.choice(self.repos)
        number = rng.randrange(2, 4000)
        thread_id = str(9_000_000_000 + len(self.threads) * 7919)
        when = updated if updated is not None else self.tick()
        self.threads.append(
            {
                "id": thread_id,
                "unread": unread,
                "reason": reason or rng.choice(REASONS),
                "updated_at": _stamp(when),
                "last_read_at": None if unread else _stamp(when - 60),
                "subject": {
                    "title": title or rng.choice(titles),
                    "type": subject_type,
                    "path": None
                    if kind is None
                    else f"{kind}/{number if kind != 'commits' else rng.randbytes(20).hex()}",
                },
                "repository": repository,
            }
        )
        return self.threads[-1]

    def arrive(self) -> None:
        every = float(self.config.extra.get("notifications_new_every", 20.0))
        if every <= 0:
            return
        due = int((time.time() - self.started) / every)
        while self.arrived < due:
            self.arrived += 1
            # stamped when it was due, not when someone next asked: a lab left idle for an hour
            # would otherwise stamp a burst of threads in the future (every one "now" on screen)
            self.add(updated=self.tick(self.started + self.arrived * every))

    def find(self, thread_id: str) -> dict[str, Any] | None:
        return next((t for t in self.threads if t["id"] == thread_id), None)

    def touch(self, thread: dict[str, Any]) -> None:
        thread["updated_at"] = _stamp(self.tick())
        thread["unread"] = True

    def mark_read(self, thread: dict[str, Any]) -> None:
        when = self.tick()
        thread["unread"] = False
        thread["last_read_at"] = _stamp(when)

    def poll_interval(self, who: str) -> float:
        base = float(self.config.extra.get("notifications_poll_interval", 10.0))
        growth = float(self.config.extra.get("notifications_poll_growth", 0.0))
        polls = self.polls.get(who, 0)
        self.polls[who] = polls + 1
        return base + growth * polls


def _render(thread: dict[str, Any], origin: str) -> dict[str, Any]:
    repo = thread["repository"]
    repo_api = f"{origin}/repos/{repo['full_name']}"
    subject = thread["subject"]
    path = subject["path"]
    return {
        "id": thread["id"],
        "repository": {
            "id": repo["id"],
            "node_id": repo["node_id"],
            "name": repo["name"],
            "full_name": repo["full_name"],
            "private": repo["private"],
            "owner": repo["owner"],
            "html_url": repo["html_url"],
            "description": repo["description"],
            "fork": repo["fork"],
            "url": repo_api,
        },
        "subject": {
            "title": subject["title"],
            "url": f"{repo_api}/{path}" if path else None,
            "latest_comment_url": f"{repo_api}/{path}" if path else None,
            "type": subject["type"],
        },
        "reason": thread["reason"],
        "unread": thread["unread"],
        "updated_at": thread["updated_at"],
        "last_read_at": thread["last_read_at"],
        "url": f"{origin}/notifications/threads/{thread['id']}",
        "subscription_url": f"{origin}/notifications/threads/{thread['id']}/subscription",
    }


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def routes(config: LabConfig, state: LabState) -> list[Route]:
    inbox = Inbox(config)

    def authorised(request: Request) -> api.Caller | Response:
        caller = api.authenticate(request, config)
        if isinstance(caller, Response):
            return caller
        if not caller.authenticated:
            return api.error(401, "Requires authentication")
        if config.extra.get("notifications_forbidden"):
            return api.error(403, "Resource not accessible by personal access token")
        inbox.arrive()
        return caller

    def listing(request: Request, caller: api.Caller, repo: str | None) -> Response:
        origin = f"{request.url.scheme}://{request.url.netloc}"
        rate, allowed = api.rate_headers(state, config, caller, "core")
        headers = {**api.common_headers(caller), **rate, "last-modified": formatdate(inbox.last_change, usegmt=True)}
        page, per_page = api.page_params(request)
        per_page = min(per_page, MAX_PER_PAGE)
        if page == 1:  # a poll: the first page is what GitHub meters with X-Poll-Interval
            interval = f"{inbox.poll_interval(caller.who):g}"
            headers["x-poll-interval"] = knobs(request.scope).get("poll_interval", interval)
        since = request.headers.get("if-modified-since")
        if since and page == 1:
            try:
                unchanged = parsedate_to_datetime(since).timestamp() >= inbox.last_change
            except (TypeError, ValueError):
                unchanged = False
            if unchanged:
                return Response(status_code=304, headers=headers)
        if not allowed:
            return api.rate_limited(caller, rate)
        threads = [
            t
            for t in inbox.threads
            if (repo is None or t["repository"]["full_name"] == repo)
            and (_truthy(request.query_params.get("all")) or t["unread"])
            and (not _truthy(request.query_params.get("participating")) or t["reason"] in PARTICIPATING)
        ]
        threads.sort(key=lambda t: (t["updated_at"], t["id"]), reverse=True)
        last = max(1, math.ceil(len(threads) / per_page))
        chunk = [_render(t, origin) for t in threads[(page - 1) * per_page : page * per_page]]
        link = api.link_header(request, request.url.path, page, last)
        if link:
            headers["link"] = link
        api.spend(state, caller, "core", headers)
        return Response(api.json_body(chunk), headers=headers, media_type="application/json; charset=utf-8")

    async def notifications(request: Request) -> Response:
        caller = authorised(request)
        if isinstance(caller, Response):
            return caller
        return listing(request, caller, None)

    async def repo_notifications(request: Request) -> Response:
        caller = authorised(request)
        if isinstance(caller, Response):
            return caller
        wanted = f"{request.path_params['owner']}/{request.path_params['repo']}".lower()
        full_name = next(
            (
                r["full_name"]
                for repos in catalogue(config.seed).values()
                for r in repos
                if r["full_name"].lower() == wanted
            ),
            None,
        )
        if full_name is None:
            return api.error(404, "Not Found")
        return listing(request, caller, full_name)

    async def thread(request: Request) -> Response:
        caller = authorised(request)
        if isinstance(caller, Response):
            return caller
        found = inbox.find(request.path_params["thread_id"])
        if found is None:
            return api.error(404, "Not Found")
        if request.method == "GET":
            return JSONResponse(_render(found, f"{request.url.scheme}://{request.url.netloc}"))
        if config.extra.get("notifications_refuse_read"):
            return api.error(403, "Resource not accessible by personal access token")
        inbox.mark_read(found)
        state.bump("notifications:marked_read")
        return Response(status_code=205)

    async def lab_add(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        added = inbox.add(
            reason=body.get("reason"), title=body.get("title"), subject_type=body.get("type"), repo=body.get("repo")
        )
        state.changed()
        return JSONResponse({"id": added["id"], "updated_at": added["updated_at"]}, status_code=201)

    async def lab_touch(request: Request) -> Response:
        found = inbox.find(request.path_params["thread_id"])
        if found is None:
            return api.error(404, "Not Found")
        inbox.touch(found)
        state.changed()
        return JSONResponse({"id": found["id"], "updated_at": found["updated_at"]})

    return [
        Route("/notifications", notifications),
        Route("/repos/{owner}/{repo}/notifications", repo_notifications),
        Route("/notifications/threads/{thread_id}", thread, methods=["GET", "PATCH"]),
        Route("/_lab/notifications/threads", lab_add, methods=["POST"]),
        Route("/_lab/notifications/threads/{thread_id}/touch", lab_touch, methods=["POST"]),
    ]
