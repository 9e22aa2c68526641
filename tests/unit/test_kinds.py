"""The registry of panel kinds: each kind's schema is its feed's keyword arguments."""

from __future__ import annotations

import dataclasses
import inspect

import msgspec
import pytest

from feedview.kinds import KINDS, HealthCheckOptions, PanelKind, kind_of, register

# Keywords a feed takes from its caller, never from a config file.
NOT_CONFIG = {"client", "cache", "interpret", "cursor"}  # objects a caller hands over, not config keys


def schema_keys(struct: type) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(struct)}


def feed_keywords(feed, tuning: type | None = None, skip: set[str] = frozenset()) -> set[str]:
    params = inspect.signature(feed).parameters.values()
    keys = {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)} - NOT_CONFIG - skip
    if tuning is not None:
        keys |= {f.name for f in dataclasses.fields(tuning)}
    return keys


def test_notifications_keys_are_sse_feed_keywords():
    from feedview.feeds import sse

    assert schema_keys(kind_of("notifications").options) == feed_keywords(sse.sse_feed, sse.ReconnectPolicy)


def test_repos_keys_are_repo_pages_keywords():
    from feedview.feeds import github, github_client

    assert schema_keys(kind_of("repos").options) - {"token_env"} == feed_keywords(
        github.repo_pages, github_client.GitHubTuning
    )


def test_github_notifications_keys_are_notification_threads_keywords():
    from feedview.feeds import github_client, github_notifications

    assert schema_keys(kind_of("github-notifications").options) - {"token_env"} == feed_keywords(
        github_notifications.notification_threads, github_client.GitHubTuning
    )


def test_health_keys_are_health_check_fields():
    from feedview.feeds.health import HealthCheck, health_feed

    check_fields = {f.name for f in dataclasses.fields(HealthCheck)}
    assert schema_keys(HealthCheckOptions) == check_fields
    assert schema_keys(kind_of("health").options) == (check_fields - {"url", "name"}) | {"urls", "check"}
    assert feed_keywords(health_feed, skip={"checks"}) <= check_fields


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_has_a_panel_and_a_form(name):
    kind = kind_of(name)
    from feedview.ui.panel import FeedPanel

    assert issubclass(kind.panel_class(), FeedPanel)
    assert kind.form_label and kind.form_placeholder


def test_a_kind_name_is_taken_once():
    with pytest.raises(ValueError, match="already registered"):
        register(
            PanelKind(
                name="repos",
                options=KINDS["repos"].options,
                panel="x:y",
                open_feed=lambda o, b: None,
                default_title=lambda o: "",
                form_label="",
                form_placeholder="",
                from_form=dict,
            )
        )
