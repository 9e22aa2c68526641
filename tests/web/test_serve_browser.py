"""`feedview serve` in headless Chromium: what a user of the page sees and does, and what the
lab sees of it (the screen is read from xterm.js's own buffer, as text)."""

from __future__ import annotations

import contextlib
import signal
import sqlite3

import pytest
from served import is_running, poll_until, wait_for_screen, write_config

END_S = 10  # a generous deadline on a busy machine (the server's own bound is 1.9 s)

# window.open, as the page calls it, is recorded instead of opening a tab
RECORD_WINDOW_OPEN = "window.__opened = []; window.open = (...args) => { window.__opened.push(args); return null; };"


@pytest.fixture
def dashboard(lab, tmp_path):
    """A config of two live streams and the lab's repositories, all on the lab."""
    return write_config(
        tmp_path,
        [
            {"kind": "notifications", "title": "Alerts", "url": lab.url("/events")},
            {"kind": "notifications", "title": "Deploys", "url": lab.url("/events")},
            {"kind": "repos", "title": "Repos", "owner": "octo-org", "org": True, "base_url": lab.base_url},
        ],
    )


def open_dashboard(page, served):
    """The page, once the dashboard's first frame is on screen; focused, as after a click."""
    page.goto(served.url)
    wait_for_screen(page, lambda text: "Alerts" in text and "Deploys" in text and "Repos" in text)
    page.locator("#terminal").click()
    return wait_for_screen(page, lambda text: "Close panel" in text)


def test_the_first_frame_is_the_dashboard_and_the_page_asks_nothing_of_the_internet(serve, page, lab, dashboard):
    served = serve("--config", str(dashboard))
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    text = open_dashboard(page, served)
    assert "live" in text  # the first panel's stream is open
    assert "x Close panel" in text.replace("  ", " ")  # the browser-safe key, in the footer
    assert "^w" not in text
    assert asked and all(url.startswith((served.url, "data:")) for url in asked), asked
    assert poll_until(lambda: lab.state.open_streams == 2, END_S)


def test_tab_keys_switch_panels(serve, page, lab, dashboard):
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    page.keyboard.press("3")
    wait_for_screen(page, lambda text: "─ Repos ─" in text)  # the repos panel's rows
    page.keyboard.press("[")
    wait_for_screen(page, lambda text: "─ Deploys ─" in text and "─ Repos ─" not in text)


def test_the_close_panel_key_closes_that_panel_and_its_stream_only(serve, page, lab, dashboard):
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    assert poll_until(lambda: lab.state.open_streams == 2, END_S)
    disconnects = lab.state.disconnects
    page.keyboard.press("x")  # on the first tab, Alerts
    wait_for_screen(page, lambda text: "Alerts" not in text and "Deploys" in text)
    assert poll_until(lambda: lab.state.disconnects == disconnects + 1, END_S)
    assert lab.state.open_streams == 1  # Deploys's stream stays
    page.keyboard.press("2")  # now the repos panel: the app still answers
    wait_for_screen(page, lambda text: "─ Repos ─" in text)
    assert lab.state.open_streams == 1 and lab.state.disconnects == disconnects + 1


def test_o_asks_the_page_to_open_the_link_and_y_copies_it_to_the_browser_clipboard(serve, browser, page, dashboard):
    browser.grant_permissions(["clipboard-read", "clipboard-write"])
    page.add_init_script(RECORD_WINDOW_OPEN)
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    page.keyboard.press("3")
    text = wait_for_screen(page, lambda text: "─ Repos ─" in text and "repos" in text)
    page.keyboard.press("o")
    assert poll_until(lambda: page.evaluate("window.__opened.length") == 1, END_S)
    url, target, features = page.evaluate("window.__opened[0]")
    assert url.startswith("https://github.com/octo-org/") and url.rsplit("/", 1)[1] in text
    assert target == "_blank" and features == "noopener,noreferrer"  # the new tab has no handle on this one
    page.keyboard.press("y")
    assert poll_until(lambda: page.evaluate("navigator.clipboard.readText()") == url, END_S)


def test_closing_the_tab_ends_its_session_and_its_streams(serve, page, lab, dashboard):
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    assert poll_until(lambda: lab.state.open_streams == 2 and len(served.sessions()) == 1, END_S)
    (session,) = served.sessions()
    page.close()
    assert poll_until(lambda: not is_running(session), END_S)
    assert poll_until(lambda: lab.state.open_streams == 0, END_S)
    assert served.process.poll() is None  # the server goes on for other tabs
    served.stop()  # an app that quit as asked is no failure: nothing said of it
    assert poll_until(lambda: any("stopping 0 session(s)" in line for line in served.lines), END_S)
    assert not any("a session ended" in line for line in served.lines)


def test_two_tabs_are_two_sessions_each_with_its_own_streams(serve, browser, page, lab, dashboard):
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    second = browser.new_page()
    open_dashboard(second, served)
    assert poll_until(lambda: lab.state.open_streams == 4 and len(served.sessions()) == 2, END_S)
    second.close()
    assert poll_until(lambda: lab.state.open_streams == 2 and len(served.sessions()) == 1, END_S)
    page.keyboard.press("2")  # the first tab is untouched
    wait_for_screen(page, lambda text: "─ Deploys ─" in text)


def test_stopping_the_server_ends_every_session_and_leaves_no_process(serve, browser, page, lab, dashboard):
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    second = browser.new_page()
    open_dashboard(second, served)
    assert poll_until(lambda: len(served.sessions()) == 2 and lab.state.open_streams == 4, END_S)
    sessions = served.sessions()
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(END_S) == 0
    assert not [pid for pid in sessions if is_running(pid)]
    assert poll_until(lambda: lab.state.open_streams == 0, END_S)
    assert "stopping 2 session(s)" in "\n".join(served.lines)
    # the page says so, and offers to start again
    assert poll_until(lambda: page.locator(".ended").is_visible(), END_S)
    second.close()


def test_the_demo_is_served_too(serve, page):
    served = serve("demo")
    page.goto(served.url)
    panels = ("Notifications", "octo-org repos", "Services", "GitHub inbox")
    wait_for_screen(page, lambda text: all(title in text for title in panels))
    assert wait_for_screen(page, lambda text: "received" in text)  # the lab's stream is live


def test_a_server_killed_outright_leaves_no_app_behind(serve, page, lab, dashboard):
    """SIGKILL ends nothing in order: each app sees its input end and exits, closing its feeds."""
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    assert poll_until(lambda: len(served.sessions()) == 1 and lab.state.open_streams == 2, END_S)
    (session,) = served.sessions()
    served.process.kill()
    served.process.wait(END_S)
    assert poll_until(lambda: not is_running(session), END_S)
    assert poll_until(lambda: lab.state.open_streams == 0, END_S)


def test_q_ends_the_session_and_the_page_offers_a_restart(serve, page, lab, dashboard):
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    assert poll_until(lambda: len(served.sessions()) == 1, END_S)
    page.keyboard.press("q")
    assert poll_until(lambda: page.locator(".ended").is_visible(), END_S)
    assert poll_until(lambda: served.sessions() == [] and lab.state.open_streams == 0, END_S)
    page.locator("#restart").click()
    wait_for_screen(page, lambda text: "Alerts" in text)
    assert poll_until(lambda: len(served.sessions()) == 1, END_S)


def test_ctrl_c_in_the_browser_says_which_key_quits_and_keeps_the_session(serve, page, lab, dashboard):
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    assert poll_until(lambda: len(served.sessions()) == 1, END_S)
    page.keyboard.press("Control+c")
    wait_for_screen(page, lambda text: "q quits" in text)
    assert len(served.sessions()) == 1 and not page.locator(".ended").is_visible()


# Over plain http off loopback a page is not a secure context and has no navigator.clipboard.
NO_CLIPBOARD = "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined, configurable: true});"


def test_y_without_a_browser_clipboard_shows_the_text_to_copy(serve, page, dashboard):
    """Finding 6: with no clipboard, the copy went nowhere and said nothing."""
    page.add_init_script(NO_CLIPBOARD)
    shown: list[str] = []

    def show(dialog) -> None:
        shown.append(dialog.default_value)
        dialog.dismiss()

    page.on("dialog", show)
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    page.keyboard.press("3")
    wait_for_screen(page, lambda text: "─ Repos ─" in text and "repos" in text)
    with page.expect_event("dialog", timeout=END_S * 1000):  # (Playwright's events arrive in its calls)
        page.keyboard.press("y")
    assert shown[0].startswith("https://github.com/octo-org/")


def test_a_link_clicked_in_the_terminal_opens_in_a_new_tab(serve, browser, page, dashboard):
    """xterm.js follows a clicked link as window.open() with no URL, then sets the address on
    the window it gets: noopener on that call made it null and the link opened nothing
    (finding 7). Here the page's own link handler's steps, on a link to this server."""
    served = serve("--config", str(dashboard))
    open_dashboard(page, served)
    target = served.url + "static/css/xterm.css"
    with browser.expect_page(timeout=END_S * 1000) as opened:
        followed = page.evaluate(
            """(url) => { const w = window.open(); if (!w) return false;
                          w.opener = null; w.location.href = url; return true; }""",
            target,
        )
    assert followed
    tab = opened.value
    tab.wait_for_url(target, timeout=END_S * 1000)
    tab.close()


def test_a_second_tab_gets_the_first_tabs_pages_from_the_history_store_for_304s(
    serve, browser, page, lab, dashboard, tmp_path
):
    store = tmp_path / "history.sqlite3"
    served = serve("--config", str(dashboard), env={"FEEDVIEW_HISTORY": str(store)})
    open_dashboard(page, served)

    def stored_etags() -> int:
        if not store.exists():
            return 0
        # (the schema may not be there yet)
        with contextlib.closing(sqlite3.connect(store)) as db, contextlib.suppress(sqlite3.OperationalError):
            return db.execute("SELECT count(*) FROM pages").fetchone()[0]
        return 0

    assert poll_until(lambda: stored_etags() > 0, END_S * 5)  # the first tab's first page and its ETag
    asked = len(lab.state.requests_to("/orgs/octo-org/repos"))
    second = browser.new_page()
    open_dashboard(second, served)

    def second_tab_asks() -> list:
        return lab.state.requests_to("/orgs/octo-org/repos")[asked:]

    assert poll_until(lambda: second_tab_asks(), END_S * 5)
    assert all("if-none-match" in {k.lower() for k in r.headers} for r in second_tab_asks())
