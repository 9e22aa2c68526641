"""Opening and copying links from the network: only http(s), and say what really happened.

In a browser (the app served over the web) `App.open_url` asks the page to open the link.
In a terminal the link opens in a graphical browser if this machine has one; over SSH it
usually has none, and a console browser (lynx, w3m) would take over the very terminal the
app runs in, so it is never started: the user is told, and offered `y` to copy instead.
"""

from __future__ import annotations

import asyncio
import os
import webbrowser

from textual.app import App

from ..text import clean_line


def is_web_url(url: str | None) -> bool:
    """Only http(s) links from the network are opened: never file:, javascript: or others."""
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


def _open_in_local_browser(url: str) -> bool:
    """Open url in a graphical browser of this machine ($BROWSER first, read anew each time);
    False when there is none."""
    chosen = os.environ.get("BROWSER", "").split(os.pathsep)[0]
    try:
        browser = webbrowser.get(chosen or None)
    except webbrowser.Error:
        return False
    if isinstance(browser, webbrowser.GenericBrowser) and not isinstance(browser, webbrowser.BackgroundBrowser):
        return False  # a console browser: it would draw over the app
    try:
        return bool(browser.open(url))
    except OSError:
        return False


async def open_link(app: App, url: str | None) -> None:
    if not is_web_url(url):
        app.notify("no web link to open", severity="warning")
        return
    assert url is not None
    if app.is_web:
        app.open_url(url)
        app.notify(clean_line(url), title="opening in your browser", markup=False)
        return
    # starting a browser can take a while: off the event loop
    if await asyncio.to_thread(_open_in_local_browser, url):
        app.notify(clean_line(url), title="opened in your browser", markup=False)
    else:
        app.notify(
            f"{clean_line(url)}\npress y to copy the link instead",
            title="no browser can be opened here",
            severity="warning",
            markup=False,
        )


def copy_link(app: App, url: str | None) -> None:
    """To the clipboard with OSC 52 (the terminal's, or the browser page's when served)."""
    if not url:
        app.notify("no link to copy", severity="warning")
        return
    app.copy_to_clipboard(url)
    app.notify(clean_line(url), title="copied", markup=False)
