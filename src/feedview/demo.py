"""The demo: the feed lab started in-process, and the panels that show each kind on it.

The app paints its first frame before the lab (uvicorn, starlette) is even
imported: the lab starts in a thread once the app is up, then the panels open.
`feedview demo` (commands/demo.py) and the welcome page's "Open the demo" use it.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import PanelConfig
    from .lab import Lab

DEMO_ORG = "octo-org"  # the lab's big organisation (about 1,200 repos, 42 pages)
DEMO_SERVICES = ("api", "search", "payments", "legacy")  # the lab's health presets


def demo_lab() -> contextlib.AbstractContextManager[Lab]:
    from .lab import LabConfig, start_lab

    # a backlog, so the notifications panel opens on a history rather than on one event
    return start_lab(LabConfig(sse_interval_s=1.5, sse_backlog=40))


def demo_panels(lab: Lab) -> list[PanelConfig]:
    from .config import PanelConfig

    return [
        PanelConfig("notifications", "Notifications", {"url": lab.url("/events"), "last_event_id": "0"}),
        PanelConfig(
            "repos",
            f"{DEMO_ORG} repos",
            {"owner": DEMO_ORG, "org": True, "base_url": lab.base_url, "token": lab.config.token},
        ),
        PanelConfig(
            "health",
            "Services",
            {
                "checks": [{"url": lab.url(f"/health/{name}"), "name": name} for name in DEMO_SERVICES],
                "interval": 2.0,
                "timeout": 2.0,
            },
        ),
        PanelConfig("github-notifications", "GitHub inbox", {"base_url": lab.base_url, "token": lab.config.token}),
    ]
