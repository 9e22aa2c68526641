"""Urgent notifications: one toast per panel, updated in place, never over a detail or a form,
and none for the panel the user is looking at (its red rows say it)."""

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


def two_panels() -> tuple[Script, Script, object]:
    """Panel 1 in view, panel 2 in a background tab."""
    front, back = Script(), Script()
    return front, back, scripted_app([front, back])


async def test_one_toast_per_background_panel_updated_in_place_and_one_bell():
    _, back, app = two_panels()
    bells: list[int] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.bell = lambda: bells.append(1)
        hidden = app.panels[1].view
        back.put(note(1, priority=3, title="calm"))
        await wait_until(lambda: hidden.received == 1)
        await pilot.pause()
        assert not toasts(app) and not bells
        back.put(note(2, priority=5, title="[b]disk full[/b]", message="db-1 at 99%"))
        await wait_until(lambda: len(toasts(app)) == 1)
        (toast,) = toasts(app)
        assert "Deploys 2" in text_of(toast) and "[b]disk full[/b]" in text_of(toast)  # markup stays text
        assert "db-1 at 99%" in text_of(toast) and toast.has_class("-error") and bells == [1]
        back.put(*(note(i, priority=4, title=f"again {i}") for i in range(3, 103)))  # a busy alert topic
        await wait_until(lambda: hidden.received == 102)
        await wait_until(lambda: "+100 more urgent" in text_of(toasts(app)[0]))
        assert len(toasts(app)) == 1 and "again 102" in text_of(toasts(app)[0])
        assert bells == [1]  # the bell rang once: at most every 10 s per panel


async def test_the_panel_in_view_rings_but_raises_no_toast():
    front, _, app = two_panels()
    bells: list[int] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.bell = lambda: bells.append(1)
        front.put(note(1, priority=5, title="right here"))
        await wait_until(lambda: bells == [1])
        await pilot.pause()
        assert not toasts(app)


async def test_a_toast_is_never_over_a_detail():
    front, back, app = two_panels()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(NotificationView)
        front.put(note(1, priority=3))
        await wait_until(lambda: view.received == 1)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        back.put(note(2, priority=5, title="while reading"))
        await wait_until(lambda: len(toasts(app)) == 1)
        assert toasts(app)[0].screen is not app.screen  # it lives under the detail, on the dashboard


async def test_a_click_dismisses_the_toast_and_a_closed_panel_takes_its_toast_along():
    _, back, app = two_panels()
    async with app.run_test(size=(80, 24)) as pilot:
        back.put(note(1, priority=5, title="first"))
        await wait_until(lambda: len(toasts(app)) == 1 and toasts(app)[0].region.area > 0)  # on screen
        await pilot.click(Alert)
        await wait_until(lambda: not toasts(app))
        back.put(note(2, priority=4, title="second"))
        await wait_until(lambda: len(toasts(app)) == 1)
        await pilot.press("2", "ctrl+w")  # to the panel, and close it
        await wait_until(lambda: not toasts(app) and [p.title for p in app.panels] == ["Deploys 1"])


async def test_going_to_the_panel_takes_its_toast_away():
    _, back, app = two_panels()
    async with app.run_test(size=(80, 24)) as pilot:
        back.put(note(1, priority=5, title="over there"))
        await wait_until(lambda: len(toasts(app)) == 1)
        await pilot.press("2")
        await wait_until(lambda: not toasts(app))
