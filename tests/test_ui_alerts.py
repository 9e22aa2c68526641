"""Urgent notifications: one toast per panel, updated in place, never over a detail or a form."""

from __future__ import annotations

from scripted import Script, note, scripted_app
from servers import wait_until

from feedview.ui.alerts import Alert
from feedview.ui.notifications import NotificationView
from feedview.ui.screens.detail import DetailScreen


def toasts(app) -> list[Alert]:
    return list(app.screen_stack[0].query(Alert))  # the dashboard's, whatever is pushed over it


def text_of(alert: Alert) -> str:
    return alert.content.plain


async def test_one_toast_per_panel_updated_in_place_and_one_bell():
    script = Script()
    app = scripted_app(script)
    bells: list[int] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.bell = lambda: bells.append(1)
        view = app.query_one(NotificationView)
        script.put(note(1, priority=3, title="calm"))
        await wait_until(lambda: view.received == 1)
        await pilot.pause()
        assert not toasts(app) and not bells
        script.put(note(2, priority=5, title="[b]disk full[/b]", message="db-1 at 99%"))
        await wait_until(lambda: len(toasts(app)) == 1)
        (toast,) = toasts(app)
        assert "[b]disk full[/b]" in text_of(toast) and "db-1 at 99%" in text_of(toast)  # markup stays text
        assert toast.has_class("-error") and bells == [1]
        script.put(*(note(i, priority=4, title=f"again {i}") for i in range(3, 103)))  # a busy alert topic
        await wait_until(lambda: view.received == 102)
        await wait_until(lambda: "+100 more urgent" in text_of(toasts(app)[0]))
        assert len(toasts(app)) == 1 and "again 102" in text_of(toasts(app)[0])
        assert bells == [1]  # the bell rang once: at most every 10 s per panel


async def test_a_toast_is_never_over_a_detail():
    script = Script()
    app = scripted_app(script)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(NotificationView)
        script.put(note(1, priority=3))
        await wait_until(lambda: view.received == 1)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        script.put(note(2, priority=5, title="while reading"))
        await wait_until(lambda: len(toasts(app)) == 1)
        assert toasts(app)[0].screen is not app.screen  # it lives under the detail, on the dashboard


async def test_a_click_dismisses_the_toast_and_a_closed_panel_takes_its_toast_along():
    script = Script()
    app = scripted_app(script)
    async with app.run_test(size=(80, 24)) as pilot:
        script.put(note(1, priority=5, title="first"))
        await wait_until(lambda: len(toasts(app)) == 1 and toasts(app)[0].region.area > 0)  # on screen
        await pilot.click(Alert)
        await wait_until(lambda: not toasts(app))
        script.put(note(2, priority=4, title="second"))
        await wait_until(lambda: len(toasts(app)) == 1)
        await pilot.press("ctrl+w")
        await wait_until(lambda: not toasts(app) and not app.panels)
