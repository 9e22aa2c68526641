"""The one sanitizer: what may reach a terminal, a toast, stderr or a --json line."""

from __future__ import annotations

import json

import pytest

from feedview.text import clean, clean_line, escape_json_bytes, one_line, redact, redact_url

HOSTILE = [
    "\x1b]0;pwned\x07",  # OSC: retitles the terminal
    "\x1b[2J",  # CSI: clears the screen
    "\x9b31m",  # C1 CSI
    "\x7f",
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",  # isolates
    "\u200b",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u061c",
    "\ufeff",
    "\u00ad",
    "\U000e0041",  # a tag character
    "\ud800",  # a lone surrogate (JSON "\\ud800")
]


@pytest.mark.parametrize("bad", HOSTILE)
def test_no_control_bidi_or_invisible_character_survives(bad):
    for cleaned in (clean(f"a{bad}b"), clean_line(f"a{bad}b"), one_line(f"a{bad}b")):
        assert cleaned.isprintable()  # no Cc, Cf (bidi, zero-width), surrogate or line break
        assert cleaned.startswith("a") and cleaned.endswith("b")


def test_plain_text_and_emoji_pass_unchanged():
    text = "Deploy ✅ done — café 日本語 🚨 [bold red]markup stays[/]"
    assert clean(text) == clean_line(text) == text


def test_line_breaks_become_newlines_in_a_block_and_spaces_on_a_line():
    assert clean("a\r\nb\rc\u2028d\ne\tf") == "a\nb\nc\nd\ne\tf"
    assert clean_line("a\r\nb\rc\u2028d\ne\tf") == "a  b c d e f"
    assert one_line("  a\n\n  b  ") == "a b"


def test_one_line_is_bounded():
    assert one_line("x" * 500, 10) == "x" * 9 + "…"


def test_credentials_in_urls_are_redacted():
    assert redact_url("http://admin:hunter2@host:8080/path?q=a@b") == "http://***@host:8080/path?q=a@b"
    assert redact_url("https://token@ntfy.sh/topic") == "https://***@ntfy.sh/topic"
    assert redact_url("https://a@b:c@host/") == "https://***@host/"
    assert redact_url("https://example.com/a@b") == "https://example.com/a@b"
    assert "hunter2" not in redact("cannot connect to http://admin:hunter2@10.0.0.1/ (refused)")


def test_a_secret_is_replaced_as_a_whole_word_only():
    assert (
        redact("GitHub refused t: not found on t.example.com (token t.)", ["t"])
        == "GitHub refused ***: not found on t.example.com (token ***.)"
    )
    assert redact("Bearer ghp_abc123 rejected", ["ghp_abc123"]) == "Bearer *** rejected"
    assert redact("lab-token2 is not lab-token", ["lab-token"]) == "lab-token2 is not ***"


def test_json_output_escapes_what_a_terminal_must_not_see_raw():
    value = {"title": "a\u202eb\u200bc\x7f\x85\u2028é✅"}
    line = json.dumps(value, ensure_ascii=False).encode()
    escaped = escape_json_bytes(line)
    assert json.loads(escaped) == value  # the same JSON value
    assert escaped.isascii() is False  # é and ✅ stay UTF-8
    for raw in ("\u202e", "\u200b", "\x7f", "\x85", "\u2028"):
        assert raw.encode() not in escaped
    assert escape_json_bytes(b'{"a":"plain"}') == b'{"a":"plain"}'


def test_every_cleaned_text_hides_url_credentials():
    for cleaned in (
        clean("see http://admin:hunter2@host/x"),
        clean_line("see http://admin:hunter2@host/x"),
        one_line("see http://admin:hunter2@host/x"),
    ):
        assert cleaned == "see http://***@host/x"
    assert clean_line("mail bob@example.com") == "mail bob@example.com"
