"""The GitHub notifications panel on the real feed and the lab's /notifications."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from scripted import Messages, RecordingApp, screen_lines, screen_text, send_key
from servers import wait_until

from feedview.config import ConfigError, PanelConfig, panel_from_table
from feedview.ui.github_notifications import ThreadList
from feedview.ui.panel import PanelView
from feedview.ui.screens.add_panel import panel_from_form
from feedview.ui.screens.detail import DetailScreen

AUTH = {"Authorization": "Bearer lab-token"}
QUICK = {"notifications_poll_interval": 0.05, "notifications_new_every": 0}
CONTROLS = "\x1b\x07\x9b"


def inbox_panel(lab, title: str = "inbox", **options) -> PanelConfig:
    # the lab polls every 0.05 s: below the 10 s floor a real server is held to
    options = {"base_url": lab.base_url, "token": "lab-token", "min_poll_interval_s": 0.01, **options}
    return PanelConfig("github-notifications", title, options)


def unread_threads(lab) -> list[dict]:
    return httpx.get(lab.url("/notifications"), headers=AUTH).json()


def polls(lab, path: str = "/notifications") -> int:
    return sum(1 for r in lab.state.requests_to(path) if r.path == path)


async def first_listing(view: ThreadList, count: int) -> None:
    await wait_until(lambda: view.checked and len(view.order) >= count, message=f"{count} threads listed")


async def test_threads_show_reason_repo_type_and_title_newest_first_with_unread_count(make_lab):
    lab = make_lab(extra=dict(QUICK))
    expected = unread_threads(lab)
    app = RecordingApp([inbox_panel(lab)])
    async with app.run_test(size=(160, 30)):
        view = app.query_one(ThreadList)
        await first_listing(view, len(expected))
        assert view.order == [t["id"] for t in expected]  # the lab lists newest first too
        await wait_until(lambda: f"{len(expected)} threads · {len(expected)} unread" in screen_text(app))
        text = screen_text(app)
        top = next(line for line in text.splitlines() if expected[0]["subject"]["title"] in line)
        assert expected[0]["reason"] in top and expected[0]["repository"]["full_name"] in top and "●" in top
        assert f"inbox · {len(expected)} unread" in text
        assert f"{len(expected)} threads · {len(expected)} unread" in text
        await wait_until(lambda: "next check in" in screen_text(app) or "checking" in screen_text(app))


async def test_a_new_thread_appears_on_top_and_an_updated_one_moves_in_place(make_lab):
    lab = make_lab(extra=dict(QUICK))
    app = RecordingApp([inbox_panel(lab)])
    async with app.run_test(size=(160, 30)):
        view = app.query_one(ThreadList)
        await first_listing(view, 10)
        before = len(view.order)
        added = httpx.post(
            lab.url("/_lab/notifications/threads"),
            json={"reason": "review_requested", "title": "Please review the poller", "type": "PullRequest"},
        )
        new_id = added.json()["id"]
        await wait_until(lambda: view.order and view.order[0] == new_id, message="the new thread on top")
        await wait_until(lambda: any("Please review the poller" in line for line in screen_lines(app)))
        top = next(line for line in screen_lines(app) if "Please review the poller" in line)
        assert "review_requested" in top and "PR" in top
        oldest = view.order[-1]
        httpx.post(lab.url(f"/_lab/notifications/threads/{oldest}/touch"))
        await wait_until(lambda: view.order[0] == oldest, message="the touched thread on top")
        assert len(view.order) == before + 1 == len(set(view.order))  # in place: never twice


def badges(messages: Messages) -> list[str]:
    return [message.badge for message in messages]


async def test_r_marks_read_at_once_and_the_lab_sees_the_patch(make_lab):
    lab = make_lab(extra=dict(QUICK))
    app = RecordingApp([inbox_panel(lab)])
    shown: list[tuple[str, int]] = []  # each unread count the border is given, and the PATCHes seen by then

    def hook(message) -> None:
        if isinstance(message, PanelView.BadgeChanged):
            shown.append((message.badge, lab.state.counters.get("notifications:marked_read", 0)))

    async with app.run_test(size=(160, 30), message_hook=hook) as pilot:
        view = app.query_one(ThreadList)
        await first_listing(view, 10)
        await pilot.press("down")
        thread = view.selected()
        unread = view.unread_count
        send_key(app, "r")
        await wait_until(lambda: lab.state.counters.get("notifications:marked_read") == 1, message="the PATCH")
        assert not view.threads[thread.id].unread and view.unread_count == unread - 1
        assert (f"· {unread - 1} unread", 0) in shown  # shown read at once, before the PATCH
        patches = [r for r in lab.state.requests_to(f"/notifications/threads/{thread.id}") if r.method == "PATCH"]
        assert len(patches) == 1 and patches[0].headers["authorization"] == "Bearer lab-token"
        await wait_until(lambda: f"inbox · {unread - 1} unread" in screen_text(app))
        await pilot.pause()  # the PATCH's answer handled: the process is idle
        assert not view.threads[thread.id].unread  # nothing rolled it back
        assert not [toast for toast in app.toasts if toast.severity == "error"]


async def test_a_refused_mark_read_rolls_back_with_an_error(make_lab):
    lab = make_lab(extra={**QUICK, "notifications_refuse_read": True})
    app = RecordingApp([inbox_panel(lab)])
    messages = Messages(PanelView.BadgeChanged)
    async with app.run_test(size=(160, 30), message_hook=messages) as pilot:
        view = app.query_one(ThreadList)
        await first_listing(view, 10)
        thread = view.selected()
        unread = view.unread_count
        await pilot.pause()
        before = len(badges(messages))
        await pilot.press("r")
        # each count the border is given: one fewer at once, then back as it was
        expected = [f"· {unread - 1} unread", f"· {unread} unread"]
        await wait_until(lambda: badges(messages)[before:] == expected, message="shown read, then rolled back")
        assert view.threads[thread.id].unread
        assert [r.method for r in lab.state.requests_to(f"/notifications/threads/{thread.id}")] == ["PATCH"]
        errors = [toast for toast in app.toasts if toast.severity == "error"]
        assert len(errors) == 1 and "403" in errors[0].message and "classic token" in errors[0].message
        assert errors[0].title.startswith("not marked read")
        assert view.unread_count == len(view.order)


async def test_enter_shows_the_detail_and_o_opens_the_web_page(make_lab, browser):
    lab = make_lab(extra=dict(QUICK))
    app = RecordingApp([inbox_panel(lab)])
    async with app.run_test(size=(160, 40)) as pilot:
        view = app.query_one(ThreadList)
        await first_listing(view, 10)
        thread = view.selected()
        await pilot.press("o")
        await wait_until(lambda: browser.opened() == [thread.html_url])
        assert thread.html_url.startswith("https://github.com/")
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.pause()
        text = screen_text(app)
        for value in (
            thread.subject_title,
            thread.reason,
            thread.repository,
            thread.subject_type,
            thread.html_url,
            "raw JSON",
        ):
            assert value in text
        assert app.screen.raw["subject"]["title"] == thread.subject_title  # the raw JSON, scrolled to
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_ctrl_w_closes_the_feed_and_the_other_panel_keeps_polling(make_lab):
    lab = make_lab(extra=dict(QUICK))
    repo = unread_threads(lab)[0]["repository"]["full_name"]
    repo_path = f"/repos/{repo}/notifications"
    app = RecordingApp([inbox_panel(lab, "one repo", repo=repo), inbox_panel(lab, "everything")])
    async with app.run_test(size=(160, 30)):
        dismissed = app.current_panel()
        assert dismissed.title == "one repo"
        await wait_until(lambda: polls(lab, repo_path) >= 2 and polls(lab) >= 2, message="both polling")
        worker = next(w for w in app.workers if w.group == dismissed.view.feed_group)
        send_key(app, "ctrl+w")
        await wait_until(lambda: worker.is_finished and not dismissed.is_attached, message="the panel dismissed")
        assert worker.state.name == "CANCELLED"
        after = polls(lab, repo_path)
        others = polls(lab)
        await wait_until(lambda: polls(lab) >= others + 5, message="the other panel keeps polling")
        assert polls(lab, repo_path) == after
        assert not [t for t in asyncio.all_tasks() if t.get_name() == dismissed.view.feed_group and not t.done()]


async def test_a_rate_limit_wait_is_shown_apart_from_the_routine_poll_interval(make_lab):
    # the first listing spends the whole budget; a second between checks, to read the countdown
    lab = make_lab(rate_limit=1, extra={**QUICK, "notifications_poll_interval": 1})
    app = RecordingApp([inbox_panel(lab)])
    async with app.run_test(size=(160, 30)) as pilot:
        panel = app.panels[0]
        await first_listing(panel.view, 10)
        await wait_until(lambda: "next check in" in screen_text(app), message="the routine countdown")
        assert panel.state.phase == "idle"  # the poll interval GitHub asks for is no trouble
        httpx.post(lab.url("/_lab/notifications/threads"))  # the next check is not a free 304
        await wait_until(lambda: panel.state.phase == "waiting", message="waiting out the rate limit")
        await pilot.pause()  # the state's message handled and the screen repainted
        assert "waiting until" in screen_text(app) and "next check in" not in screen_text(app)


async def test_a_fine_grained_token_error_says_so_plainly(make_lab):
    lab = make_lab(extra={**QUICK, "notifications_forbidden": True})
    app = RecordingApp([inbox_panel(lab)])
    async with app.run_test(size=(160, 30)) as pilot:
        panel = app.panels[0]
        await wait_until(lambda: panel.state.phase == "error")
        await pilot.pause()
        text = screen_text(app)
        assert "403" in text and "classic token" in text and "fine-grained" in text
        assert "lab-token" not in text


async def test_hostile_titles_are_shown_literally(make_lab):
    lab = make_lab(extra=dict(QUICK))
    hostile = "[bold red]pwn[/] \x1b[2J\x1b]0;owned\x07 [/] \x9b31m end"
    app = RecordingApp([inbox_panel(lab)])
    async with app.run_test(size=(160, 30)) as pilot:
        view = app.query_one(ThreadList)
        await first_listing(view, 10)
        added = httpx.post(lab.url("/_lab/notifications/threads"), json={"reason": "mention", "title": hostile})
        await wait_until(lambda: view.order[0] == added.json()["id"])
        await wait_until(lambda: "[bold red]pwn[/] [2J]0;owned [/] 31m end" in screen_text(app))
        assert not any(ch in screen_text(app) for ch in CONTROLS)
        await pilot.press("enter")
        await pilot.pause()
        assert "[bold red]pwn[/]" in screen_text(app)
        assert not any(ch in screen_text(app) for ch in CONTROLS)


def test_the_add_panel_form_makes_a_github_notifications_panel():
    panel = panel_from_form("github-notifications", "octo-org/app participating", "mine")
    assert panel.kind == "github-notifications" and panel.title == "mine"
    assert panel.options == {"repo": "octo-org/app", "participating": True}
    with pytest.raises(ConfigError, match="'repo': expected OWNER/REPO"):
        panel_from_form("github-notifications", "not-a-repo", "")


def test_config_keys_and_their_validation():
    panel = panel_from_table(
        {
            "kind": "github-notifications",
            "participating": True,
            "all": False,
            "repo": "octo-org/app",
            "base_url": "https://ghe.example.com/api/v3",
            "token_env": "GHE_TOKEN",
            "max_retries": 5,
        }
    )
    assert panel.options == {
        "participating": True,
        "all": False,
        "repo": "octo-org/app",
        "base_url": "https://ghe.example.com/api/v3",
        "token_env": "GHE_TOKEN",
        "max_retries": 5,
    }
    for table, message in (
        ({"repo": "octo-org"}, "key 'repo': expected OWNER/REPO"),
        ({"per_page": 100}, "key 'per_page': expected 1 to 50"),
        ({"participating": "yes"}, "key 'participating': expected true or false"),
        ({"base_url": "ftp://x"}, "key 'base_url': expected an http"),
        ({"owner": "x"}, "unknown key 'owner'"),
    ):
        with pytest.raises(ConfigError, match=message):
            panel_from_table({"kind": "github-notifications", **table}, "panel 1")
