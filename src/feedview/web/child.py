"""One browser tab's dashboard: `python -m feedview.web.child`, started by `feedview serve`.

What it shows comes from the server in $FEEDVIEW_SESSION (a session spec, JSON): the
config's panels, or the demo's on the server's one lab, validated once by the server.
Its stdin and stdout are the server's pipe (Textual's web-driver protocol).
"""

from __future__ import annotations

import gc
import os
import sys

import msgspec

from ..config import DashboardConfig, Layout, PanelConfig

SPEC_ENV = "FEEDVIEW_SESSION"
DRIVER = "feedview.web.driver:SessionDriver"


class SessionSpec(msgspec.Struct, frozen=True):
    """What every tab shows. In the environment, not on the command line: panel options may
    hold tokens, and any user can read a process's arguments.

    Sessions share what they can through the history store: every tab's app opens the same
    file (the server's $FEEDVIEW_HISTORY or the user's default), so GitHub ETags and cursors
    one tab stored let the next tab ask If-None-Match and cost 304s, not rate limit.
    """

    panels: list[PanelConfig]
    theme: str | None = None
    layout: Layout = "tabs"

    @classmethod
    def of(cls, config: DashboardConfig) -> SessionSpec:
        return cls(config.panels, config.theme, config.layout)

    def encode(self) -> str:
        return msgspec.json.encode(self).decode()


def main() -> int:
    gc.disable()  # as cli.main: the app turns the collector back on after its first frame
    spec = os.environ.pop(SPEC_ENV, None)
    if spec is None:
        print("feedview.web.child: error: started without a session (feedview serve starts it)", file=sys.stderr)
        return 2
    session = msgspec.json.decode(spec, type=SessionSpec)
    from ..ui.app import run_panels

    return run_panels(session.panels, theme=session.theme, layout=session.layout)


if __name__ == "__main__":
    sys.exit(main())
