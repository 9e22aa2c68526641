"""Is this an http(s) URL feedview can use? Checked where a URL enters: the command line,
the config file and the add-panel form, so a typo is one line at once rather than a feed
that retries forever or reports a DNS failure of `%5Bbad`.

Standard library only (no httpx): the command line checks its URLs before the app's
first frame, which httpx is kept out of.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .text import redact_url

_HOST_LABEL = re.compile(r"(?!-)[\w~%-]+(?<!-)\Z")


def http_url_problem(url: str) -> str | None:
    """Why `url` is not a usable http:// or https:// URL (one line, credentials redacted),
    or None when it is."""
    shown = redact_url(url)
    if not url.isprintable() or any(c.isspace() for c in url):
        return f"{shown!r} contains a space or a control character"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port out of range or not a number
        host = parts.hostname
    except ValueError as exc:
        return f"{shown!r} is not a valid URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"expected an http:// or https:// URL, got {shown!r}"
    if not host:
        return f"{shown!r} has no host name"
    if port == 0:
        return f"{shown!r}: port 0 is not a port to connect to"
    import ipaddress  # (only for addresses: most URLs name a host)

    if "[" in parts.netloc:  # an IPv6 literal: urlsplit has checked the brackets
        try:
            ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            return f"{shown!r}: {host!r} is not an IPv6 address"
        return None
    labels = host.rstrip(".").split(".")
    if all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"{shown!r}: {host!r} is not an IPv4 address"
        return None
    if not all(_HOST_LABEL.match(label) for label in labels):
        return f"{shown!r}: {host!r} is not a valid host name"
    return None
