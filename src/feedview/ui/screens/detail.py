"""Detail views: a modal over the dashboard, closed with escape.

Everything shown here came from the network, so every value goes through
`safe_text` (or is built as `Text`), never through markup.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ..safe import clean, clean_line, redact_url, safe_text


def when(epoch: float | None, now: float) -> str:
    if not epoch:
        return ""
    from ..notifications import relative_time

    try:
        stamp = datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):  # beyond what the platform's clock can show
        return f"{epoch:g}"
    age = relative_time(epoch, now)
    return f"{stamp} ({'just now' if age == 'now' else age + ' ago'})"


class DetailScreen(ModalScreen[None]):
    """A titled list of fields, a body and the raw JSON; `o` opens and `y` copies the link."""

    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("o", "open_link", "Open link"),
        Binding("y", "copy_link", "Copy link"),
    ]

    def __init__(
        self,
        title: Text,
        fields: list[tuple[str, Text]],
        *,
        body: Text | None = None,
        raw: Any = None,
        link: str | None = None,
    ) -> None:
        super().__init__()
        self.heading = title
        self.fields = fields
        self.body = body
        self.raw = raw
        self.link = link

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="detail-box") as box:
            box.border_title = "detail (escape to close)"
            yield Static(self.heading, classes="detail-title")
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", no_wrap=True)
            table.add_column()
            for label, value in self.fields:
                table.add_row(label, value)
            yield Static(table, classes="detail-fields")
            if self.body is not None and self.body.plain:
                yield Static(self.body, classes="detail-body")
            if self.raw is not None:
                raw = json.dumps(self.raw, indent=2, ensure_ascii=False, default=str)
                yield Static(Text("raw JSON", style="bold"), classes="detail-raw-title")
                yield Static(JSONHighlighter()(Text(clean(raw))), classes="detail-raw")
        yield Footer()

    def action_open_link(self) -> None:
        from ..repos import open_in_browser

        open_in_browser(self.app, self.link)

    def action_copy_link(self) -> None:
        from ..repos import copy_url

        copy_url(self.app, self.link)


def notification_detail(item: Any, sent: float, now: float) -> DetailScreen:
    from ..notifications import PRIORITY_ICONS, priority_of

    if not hasattr(item, "message"):  # a plain SSE event
        fields = [("event", safe_text(item.type)), ("id", safe_text(item.last_event_id))]
        return DetailScreen(Text("event", style="bold"), fields, body=safe_text(item.data))
    priority = priority_of(item)
    fields = [
        ("priority", Text(f"{PRIORITY_ICONS[priority]} {priority}", style="bold red" if priority >= 4 else "")),
        ("time", Text(when(sent, now))),
        ("topic", safe_text(item.topic, one_line=True)),
        ("tags", safe_text(", ".join(item.tags), one_line=True)),
        ("click", safe_text(item.click or "", "underline", one_line=True)),
        ("id", safe_text(item.id, one_line=True)),
    ]
    title = safe_text(item.title or item.topic or "notification", "bold", one_line=True)
    raw = dict(item.raw) if item.raw else None
    if raw is None:
        raw_data = getattr(getattr(item, "event", None), "data", None)
        try:
            raw = json.loads(raw_data) if raw_data else None
        except ValueError:
            raw = raw_data
    return DetailScreen(title, fields, body=safe_text(item.message), raw=raw, link=item.click)


def repo_detail(repo: Any, now: float) -> DetailScreen:
    def date(iso: str | None) -> Text:
        from ..repos import ago

        return Text(f"{clean_line(iso)} ({ago(iso, now)})" if iso else "")

    fields = [
        ("description", safe_text(repo.description or "")),
        ("topics", safe_text(", ".join(repo.topics), one_line=True)),
        ("language", safe_text(repo.language or "", one_line=True)),
        ("license", safe_text(repo.license or "none", one_line=True)),
        ("stars", Text(f"{repo.stargazers_count:,}")),
        ("forks", Text(f"{repo.forks_count:,}")),
        ("open issues", Text(f"{repo.open_issues_count:,}")),
        ("visibility", safe_text(repo.visibility or "", one_line=True)),
        ("flags", Text(", ".join(f for f, on in (("fork", repo.fork), ("archived", repo.archived)) if on))),
        ("created", date(repo.created_at)),
        ("updated", date(repo.updated_at)),
        ("pushed", date(repo.pushed_at)),
        ("url", safe_text(repo.html_url, "underline", one_line=True)),
    ]
    return DetailScreen(safe_text(repo.full_name, "bold", one_line=True), fields, link=repo.html_url)


def health_detail(sample: Any, now: float) -> DetailScreen:
    """A check's last sample: its state (coloured as in the table), what the answer said and
    in which format, and the rolling stats. The URL is shown, and linked, without credentials."""
    from ..health import DOTS, check_name

    stats = sample.stats
    ms = lambda v: Text("" if v is None else f"{v:,.0f} ms")  # noqa: E731
    icon, colour = DOTS.get(sample.state, DOTS["unknown"])
    verdict = getattr(sample, "verdict", None)
    fields = [
        ("url", Text(redact_url(sample.url), no_wrap=True)),
        ("state", Text(f"{icon} {sample.state}", style=colour)),
        ("last answer", Text(verdict or "")),
        ("read as", safe_text(getattr(sample, "format", None) or "", one_line=True)),
        ("last check", Text(when(sample.time, now))),
        ("status", Text("" if sample.status_code is None else str(sample.status_code))),
        ("latency", ms(sample.latency_ms)),
        ("error" if not sample.ok else "note", safe_text(sample.reason or "", one_line=True)),
    ]
    if stats is not None:
        fields += [
            ("uptime", Text("" if stats.uptime_pct is None else f"{stats.uptime_pct:.2f}% of {stats.window} checks")),
            ("p50 / p95", Text(f"{ms(stats.p50_ms)} / {ms(stats.p95_ms)}")),
            ("last error", safe_text(stats.last_error or "", one_line=True)),
            ("state since", Text(when(stats.last_change, now))),
        ]
    title = Text(check_name(sample), style="bold", no_wrap=True)
    return DetailScreen(title, fields, link=_without_credentials(sample.url))


def _without_credentials(url: str) -> str | None:
    """The URL to open or copy: userinfo left out (a browser asks for it), None if unusable."""
    import httpx

    try:
        return str(httpx.URL(url).copy_with(userinfo=b""))
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
