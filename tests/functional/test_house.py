"""The house's rules, checked by the tools that state them (pyproject.toml): ruff's lint and
format, mypy's declared strictness and import-linter's contracts (nothing imports upward; the
lab shares no code with the client). They run in the test suite so that CI holds them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

TOOLS = {
    "ruff check": [str(BIN / "ruff"), "check", "--output-format", "concise", "src", "tests", "benchmarks"],
    "ruff format": [str(BIN / "ruff"), "format", "--check", "src", "tests", "benchmarks"],
    "mypy": [sys.executable, "-m", "mypy", "src"],
    "import contracts": [str(BIN / "lint-imports")],
}


@pytest.mark.parametrize("tool", TOOLS)
def test_the_house_rules_hold(tool):
    done = subprocess.run(TOOLS[tool], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{tool} found:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
