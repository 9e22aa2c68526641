"""The config file: every key, and one clear line naming the file, panel and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedview.config import EXAMPLE_CONFIG, ConfigError, load_config, parse_config

FULL = """
theme = "nord"
layout = "grid"

[[panel]]
kind = "notifications"
title = "Deploys"
url = "https://ntfy.sh/mytopic/sse"
headers = { Authorization = "Bearer tk_abc" }
last_event_id = "42"
idle_timeout = 30
rows = 5000
reconnect_s = 1.5
backoff_max_s = 30

[[panel]]
kind = "repos"
title = "Textual"
owner = "textualize"
org = true
base_url = "https://ghe.example.com/api/v3"
token_env = "GHE_TOKEN"
per_page = 50
sort = "updated"
direction = "desc"
max_retries = 5

[[panel]]
kind = "repos"
search = "language:python stars:>1000"

[[panel]]
kind = "health"
title = "API"
urls = ["https://api.example.com/health"]
interval = 5
timeout = 2.5
failures_to_trip = 2
conditions = ["[STATUS] == 200"]

[[panel.check]]
url = "https://example.com/ready"
name = "ready"
method = "HEAD"
headers = { "X-Probe" = "feedview" }
conditions = ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]
"""


def test_full_config_maps_every_key_to_the_feed_options(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(FULL)
    config = load_config(path)
    assert config.theme == "nord" and config.layout == "grid" and config.path == path
    notes, repos, search, health = config.panels
    assert notes.kind == "notifications" and notes.title == "Deploys" and notes.rows == 5000 and notes.history is True
    assert notes.options == {
        "url": "https://ntfy.sh/mytopic/sse",
        "headers": {"Authorization": "Bearer tk_abc"},
        "last_event_id": "42",
        "idle_timeout": 30,
        "reconnect_s": 1.5,
        "backoff_max_s": 30,
    }
    assert repos.options == {
        "owner": "textualize",
        "org": True,
        "base_url": "https://ghe.example.com/api/v3",
        "token_env": "GHE_TOKEN",
        "per_page": 50,
        "sort": "updated",
        "direction": "desc",
        "max_retries": 5,
    }
    assert search.options == {"search": "language:python stars:>1000"} and search.title is None
    assert health.options["urls"] == ["https://api.example.com/health"]
    assert health.options["interval"] == 5 and health.options["failures_to_trip"] == 2
    assert health.options["checks"][0]["name"] == "ready" and health.options["checks"][0]["method"] == "HEAD"


def test_the_welcome_example_is_a_valid_config(tmp_path: Path):
    config = parse_config(EXAMPLE_CONFIG, tmp_path / "config.toml")
    assert [p.kind for p in config.panels] == ["notifications", "repos", "health"]


def test_no_default_config_means_none_but_a_missing_explicit_file_is_an_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_config() is None
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("panel", "message"),
    [
        ('kind = "notifications"\nurl = "ftp://x"', r"panel 1 \(notifications\): key 'url': expected an http"),
        ('kind = "notifications"', r"panel 1 \(notifications\): missing key 'url'"),
        ('kind = "notifications"\nurl = "http://[bad/sse"', r"key 'url': 'http://\[bad/sse' is not a valid URL"),
        (
            'kind = "notifications"\nurl = "https://u:secret@ntfy.sh:99999/t"',
            r"key 'url': 'https://\*\*\*@ntfy.sh:99999/t'",
        ),
        ('kind = "repos"\nowner = "me"\nbase_url = "http://300.1.1.1/api"', r"key 'base_url': .*not an IPv4 address"),
        ('kind = "health"\n[[panel.check]]\nurl = "http://a b/"', r"check 1: key 'url': .*space"),
        (
            'kind = "notifications"\nurl = "https://x/sse"\nrows = 0',
            r"key 'rows': expected a whole number of at least 1",
        ),
        (
            'kind = "notifications"\nurl = "https://x/sse"\nhistory = 5000',
            r"key 'history': now true or false .* write rows = 5000",
        ),
        ('kind = "notifications"\nurl = "https://x/sse"\nhistory = "yes"', r"key 'history': expected true or false"),
        (
            'kind = "notifications"\nurl = "https://x/sse"\nretention_days = 0',
            r"key 'retention_days': expected a positive",
        ),
        (
            'kind = "notifications"\nurl = "https://x/sse"\nretention_days = nan',
            r"key 'retention_days': expected a positive",
        ),
        ('kind = "notifications"\nurl = "https://x/sse"\nmax_items = 0', r"key 'max_items': expected a whole number"),
        (
            'kind = "notifications"\nurl = "https://x/sse"\nidle_timeout = "soon"',
            r"key 'idle_timeout': expected a positive number of seconds, got 'soon'",
        ),
        (
            'kind = "notifications"\nurl = "https://x/sse"\nheaders = { A = 1 }',
            r"key 'headers': expected a table of strings",
        ),
        (
            'kind = "repos"\ntitle = "Mine"\nowner = "me"\nper_page = 500',
            r"panel 1 \(repos 'Mine'\): key 'per_page': expected 1 to 100",
        ),
        ('kind = "repos"\nowner = "me"\norg = "yes"', r"key 'org': expected true or false"),
        ('kind = "repos"\nowner = "me"\ndirection = "up"', r"key 'direction'"),
        ('kind = "repos"\nowner = "me"\nmax_retries = 1.5', r"key 'max_retries': expected a whole number"),
        ('kind = "repos"', r"give one of the keys 'owner', 'mine = true' or 'search'"),
        ('kind = "repos"\nowner = "me"\nownr = "x"', r"unknown key 'ownr' \(known keys: .*owner"),
        ('kind = "health"', r"missing key 'urls'"),
        ('kind = "health"\nurls = ["http://x/h"]\ninterval = -1', r"key 'interval': expected a positive number"),
        ('kind = "health"\nurls = ["http://x/h"]\nconditions = ["nonsense"]', r"panel 1 \(health\)"),
        ('kind = "health"\n[[panel.check]]\nname = "x"', r"check 1: missing key 'url'"),
        ('kind = "health"\n[[panel.check]]\nurl = "http://x"\nconditions = ["[STATUS] =="]', r"check 1: condition"),
        ('kind = "health"\n[[panel.check]]\nurl = "http://x"\nfrequency = 3', r"check 1: unknown key 'frequency'"),
        ('kind = "weather"', r"key 'kind': unknown panel kind 'weather'"),
        ('title = "x"', r"missing key 'kind'"),
    ],
)
def test_a_bad_panel_is_one_line_naming_the_file_panel_and_key(tmp_path: Path, panel: str, message: str):
    path = tmp_path / "config.toml"
    path.write_text(f"[[panel]]\n{panel}\n")
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(path)
    text = str(raised.value)
    assert text.startswith(f"{path}: panel 1") and "\n" not in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[panel]\nkind=", r"not valid TOML: .*line 1"),
        ('layout = "mosaic"\n[[panel]]\nkind = "repos"\nowner = "x"', r"key 'layout'"),
        ("theme = 3\n", r"key 'theme'"),
        ("colour = 1\n", r"unknown top-level key 'colour'"),
        ("", r"no panels"),
        ("panel = 1\n", r"write each panel as a \[\[panel\]\] table"),
    ],
)
def test_a_bad_file_is_one_line_naming_it(tmp_path: Path, text: str, message: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(path)
    assert str(raised.value).startswith(str(path)) and "\n" not in str(raised.value)


def test_unreadable_bytes_are_a_clear_error(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe[[panel]]")
    with pytest.raises(ConfigError, match="cannot read it"):
        load_config(path)


def test_the_history_keys_opt_out_and_bound_a_panel(tmp_path: Path):
    path = tmp_path / "c.toml"
    text = (
        '[[panel]]\nkind = "notifications"\nurl = "https://x/sse"\nhistory = false\n'
        '[[panel]]\nkind = "health"\nurls = ["https://x/"]\nretention_days = 30\nmax_items = 5000\n'
    )
    config = parse_config(text, path)
    off, kept = config.panels
    assert off.history is False and "history" not in off.options
    assert kept.history is True and kept.retention_days == 30.0 and kept.max_items == 5000
    assert "retention_days" not in kept.options and "max_items" not in kept.options
