"""The feeds: pure asyncio + httpx async generators of typed items. No Textual here, ever."""

import sys

# httpx imports its command line (`httpx._main`: click, rich, pygments) whenever those
# happen to be installed, ~0.1 s of every feedview start; feedview never uses it, and
# httpx falls back to a stub when the import fails.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
