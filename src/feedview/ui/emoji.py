"""ntfy's tags as ntfy shows them: a tag that is an emoji short code (`warning`,
`rotating_light`, `+1`) becomes that emoji before the title; the rest stay `#tags`.

The short codes are GitHub's (gemoji), which ntfy uses, as the `emoji` package knows them
by their alias names. The table is built on first use, after the first frame (importing the
package's data takes tens of milliseconds).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from ..text import clean_line


@functools.cache
def _short_codes() -> dict[str, str]:
    import emoji

    codes: dict[str, str] = {}
    for character, data in emoji.EMOJI_DATA.items():
        for alias in (*data.get("alias", ()), data.get("en", "")):
            if alias.startswith(":") and alias.endswith(":"):
                codes.setdefault(alias[1:-1], character)
    return codes


def split_tags(tags: Iterable[str]) -> tuple[str, list[str]]:
    """(the emoji of the tags that are short codes, in order; the other tags), all shown safely."""
    codes = _short_codes()
    emojis, rest = [], []
    for tag in tags:
        if tag in codes:
            emojis.append(codes[tag])
        else:
            rest.append(clean_line(tag))
    # without variation selectors: "⚠️" is two cells to Rich but one to tmux (and others), and a
    # row that disagrees with the terminal leaves debris; bare "⚠" is one cell to all of them
    return clean_line("".join(emojis)).replace("\ufe0f", "").replace("\ufe0e", ""), rest
