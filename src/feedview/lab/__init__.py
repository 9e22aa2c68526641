"""The feed lab: a loopback HTTP server standing in for GitHub, ntfy and health endpoints."""

from .server import Lab, serve_forever, start_lab
from .state import LabConfig, LabState

__all__ = ["Lab", "LabConfig", "LabState", "serve_forever", "start_lab"]
