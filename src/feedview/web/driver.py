"""The web driver of a served tab's app: Textual's, but the app ends when the server goes."""

from __future__ import annotations

from textual import messages
from textual.drivers.web_driver import WebDriver


class SessionDriver(WebDriver):
    """Textual's WebDriver reads the server's packets from stdin and, at end of file, stops
    reading but leaves the app running: a server that died (even by SIGKILL) would leave it
    polling its feeds forever. Here the end of stdin ends the app, which closes its feeds."""

    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set():  # stdin ended, not the app
            self._app.post_message(messages.ExitApp())
