"""The health panel on the real health feed and the lab's /health presets."""

from __future__ import annotations

from scripted import RecordingApp, screen_text
from servers import wait_until

from feedview.config import PanelConfig
from feedview.ui.health import HealthTable
from feedview.ui.screens.detail import DetailScreen


def health_panel(lab, *names: str, interval: float = 0.2, title: str = "Services") -> PanelConfig:
    checks = [{"url": lab.url(f"/health/{name}"), "name": name} for name in names]
    return PanelConfig("health", title, {"checks": checks, "interval": interval, "timeout": 2.0})


def health_app(lab, *names: str, interval: float = 0.2) -> RecordingApp:
    return RecordingApp([health_panel(lab, *names, interval=interval)])


def row(table: HealthTable, name: str) -> list[str]:
    for index in range(table.row_count):
        cells = [cell.plain for cell in table.get_row_at(index)]
        if cells[1] == name:
            return cells
    raise AssertionError(f"no row for {name}")


async def test_a_row_per_check_with_dot_latency_sparkline_uptime_next_and_error(lab):
    app = health_app(lab, "api", "legacy")
    async with app.run_test(size=(140, 20)):
        table = app.query_one(HealthTable)
        await wait_until(
            lambda: table.row_count == 2 and all(len(row(table, name)[4]) >= 3 for name in ("api", "legacy")),
            message="three checks of each on the screen",
        )
        dot, _, status, latency, recent, uptime, next_check, error = row(table, "api")
        assert dot == "●" and status == "200" and latency.endswith(" ms") and uptime == "100.0%"
        assert len(recent) >= 3 and "✕" not in recent and next_check.startswith("in ") and error == ""
        dot, _name, status, latency, recent, uptime, next_check, error = row(table, "legacy")
        assert status == "503" and set(recent) == {"✕"} and uptime == "0.0%" and "503" in error
        await wait_until(
            lambda: (
                "2 checks: 1 up · 1 down" in screen_text(app) and "● 1 of 2 healthy · every 0.2 s" in screen_text(app)
            )
        )


async def test_enter_opens_the_check_detail(lab):
    app = health_app(lab, "legacy")
    async with app.run_test(size=(140, 30)) as pilot:
        table = app.query_one(HealthTable)
        await wait_until(lambda: table.row_count == 1)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.pause()
        text = screen_text(app)
        assert "legacy" in text and "uptime" in text and "p50 / p95" in text and "503" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_a_dismissed_health_panel_sends_no_more_requests(lab):
    app = RecordingApp([health_panel(lab, "api", interval=0.1), health_panel(lab, "db", interval=0.1, title="other")])
    async with app.run_test(size=(140, 20)):
        dismissed = app.current_panel()
        await wait_until(lambda: dismissed.view.row_count == 1)
        await app.run_action("dismiss_panel")
        assert [panel.title for panel in app.panels] == ["other"]
        seen = lab.state.counters.get("health:api", 0)
        # a barrier, not a sleep: the other panel checks three times more, at the same interval
        others = lab.state.counters.get("health:db", 0)
        await wait_until(lambda: lab.state.counters.get("health:db", 0) >= others + 3, message="the other panel checks")
        assert lab.state.counters.get("health:api", 0) == seen  # nothing of the dismissed one was left scheduled


def checks_app(checks: list[dict], interval: float = 0.2) -> RecordingApp:
    return RecordingApp([PanelConfig("health", "Services", {"checks": checks, "interval": interval, "timeout": 2.0})])


async def test_a_degraded_check_is_yellow_and_counted_in_both_lines(lab):
    app = checks_app(
        [{"url": lab.url("/health/api"), "name": "api"}, {"url": lab.url("/health/w?report=warn"), "name": "warn"}]
    )
    async with app.run_test(size=(140, 20)):
        table = app.query_one(HealthTable)
        await wait_until(lambda: table.row_count == 2)
        cells = next(table.get_row_at(i) for i in range(2) if table.get_row_at(i)[1].plain == "warn")
        assert (cells[0].plain, str(cells[0].style)) == ("●", "yellow")
        assert cells[7].plain == 'status "warn" (w:responseTime)' and str(cells[7].style) == "yellow"
        await wait_until(
            lambda: (
                "2 checks: 1 up · 1 degraded" in screen_text(app)
                and "● 1 of 2 healthy · every 0.2 s" in screen_text(app)
            )
        )


async def test_one_check_reads_in_the_singular_and_names_its_state(lab):
    app = checks_app([{"url": lab.url("/health/api"), "name": "api"}])
    async with app.run_test(size=(140, 20)):
        table = app.query_one(HealthTable)
        await wait_until(lambda: table.row_count == 1)
        await wait_until(lambda: "1 check: 1 up" in screen_text(app) and "● healthy · every 0.2 s" in screen_text(app))
        assert "checks" not in screen_text(app)


async def test_a_dead_feed_keeps_its_error_over_a_late_repaint(lab, monkeypatch):
    from feedview.feeds import check_history

    def broken(self, *args, **kwargs):
        raise RuntimeError("history lost")

    monkeypatch.setattr(check_history.CheckHistory, "record", broken)
    app = checks_app([{"url": lab.url("/health/api"), "name": "api"}])
    async with app.run_test(size=(140, 20)):
        table, panel = app.query_one(HealthTable), app.panels[0]
        # the row comes with the repaint that used to put "open" back over the error
        await wait_until(lambda: table.row_count == 1 and panel.state.phase == "error")
        assert panel.state.reason == "every check stopped: RuntimeError: history lost"
        await wait_until(lambda: "✖ error: every check stopped: RuntimeError: history lost" in screen_text(app))
        assert "healthy" not in screen_text(app)


async def test_credentials_in_a_check_url_are_never_shown(lab):
    url = lab.url("/health/w?report=warn").replace("http://", "http://admin:pa55word@")
    app = checks_app([{"url": url}])
    async with app.run_test(size=(140, 30)) as pilot:
        table = app.query_one(HealthTable)
        await wait_until(lambda: table.row_count == 1)
        assert table.get_row_at(0)[1].plain == url.replace("admin:pa55word", "***")
        await wait_until(lambda: "***@" in screen_text(app), message="the row on the screen")
        assert "pa55word" not in screen_text(app)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.pause()
        text = screen_text(app)
        assert "pa55word" not in text and "***@" in text
        assert "read as" in text and "IETF health+json" in text and "● degraded" in text
        assert "note" in text and 'status "warn"' in text
        assert app.screen.link == lab.url("/health/w?report=warn")  # opened without the credentials
