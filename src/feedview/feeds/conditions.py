"""Health-check conditions: a small Gatus-style expression language.

A condition is one string, `LEFT OP RIGHT`, parsed once (a typo fails at start-up,
not at the first check) and evaluated against each response:

  LEFT   [STATUS]               the HTTP status code
         [RESPONSE_TIME]        milliseconds until the body was read
         [BODY]                 the body as text
         [BODY].a.b[0].c        a field of the JSON body (dotted path, [n] for list items)
         [HEADER].Name          a response header (name case-insensitive)
         len(LEFT)              length of a text, list or object
         has(LEFT)              true when the field or header exists
  OP     ==  !=  <  <=  >  >=
  RIGHT  a literal (quotes optional), any(a, b, ...) for one of several values,
         or pat(glob) for a shell pattern: pat(*healthy*) means "contains healthy"

`==`/`!=` compare as numbers when both sides are numbers, else as text (JSON
true/false/null read as `true`/`false`/`null`); `<`-style operators need numbers.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_SPLIT = re.compile(r"\s*(==|!=|<=|>=|<|>)\s*")
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_PLACEHOLDERS = ("[STATUS]", "[RESPONSE_TIME]", "[BODY]", "[HEADER]")
_MISSING = object()


class ConditionError(ValueError):
    """A condition that cannot be parsed; the message is one line for the user."""


@dataclass(frozen=True)
class Response:
    """What a condition can look at."""

    status_code: int
    response_time_ms: float
    body: str
    headers: Mapping[str, str]  # case-insensitive mapping (httpx.Headers)

    @cached_property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return _MISSING


@dataclass(frozen=True)
class _Left:
    text: str  # as written, for messages
    placeholder: str
    path: tuple[str | int, ...]  # JSON path under [BODY], or (header name,) under [HEADER]
    function: str | None  # None, "len" or "has"

    def resolve(self, response: Response) -> Any:
        value = self._raw(response)
        if self.function == "has":
            return value is not _MISSING
        if self.function == "len":
            return len(value) if isinstance(value, (str, list, dict)) else _MISSING
        return value

    def _raw(self, response: Response) -> Any:
        if self.placeholder == "[STATUS]":
            return response.status_code
        if self.placeholder == "[RESPONSE_TIME]":
            return round(response.response_time_ms)
        if self.placeholder == "[HEADER]":
            return response.headers.get(str(self.path[0]), _MISSING)
        if not self.path:
            return response.body
        value = response.json
        for step in self.path:
            if isinstance(step, int) and isinstance(value, list) and step < len(value):
                value = value[step]
            elif isinstance(step, str) and isinstance(value, dict) and step in value:
                value = value[step]
            else:
                return _MISSING
        return value


@dataclass(frozen=True)
class Condition:
    text: str
    left: _Left
    operator: str
    expected: tuple[str, ...]  # several for any(...)
    pattern: bool  # pat(...): expected[0] is a shell pattern

    def failure(self, response: Response) -> str | None:
        """None when the response meets the condition, else a short reason."""
        actual = self.left.resolve(response)
        if actual is _MISSING:
            not_json = self.left.placeholder == "[BODY]" and self.left.path and response.json is _MISSING
            return f"{self.left.text}: {'the body is not JSON' if not_json else 'missing'}"
        if self._holds(actual):
            return None
        return f"{self.left.text} ({_short(_as_text(actual))}) {self.operator} {self._right_text()}"

    def _holds(self, actual: Any) -> bool:
        text = _as_text(actual)
        if self.operator in ("==", "!="):
            if self.pattern:
                equal = fnmatch.fnmatchcase(text, self.expected[0])
            else:
                equal = any(_equal(text, expected) for expected in self.expected)
            return equal == (self.operator == "==")
        number, bound = _number(text), _number(self.expected[0])
        if number is None or bound is None:
            return False
        return {"<": number < bound, "<=": number <= bound, ">": number > bound, ">=": number >= bound}[self.operator]

    def _right_text(self) -> str:
        if self.pattern:
            return f"pat({self.expected[0]})"
        if len(self.expected) > 1:
            return f"any({', '.join(self.expected)})"
        return self.expected[0]


def parse_condition(text: str) -> Condition:
    """Parse one condition; ConditionError (one line) when it is not valid."""
    parts = _SPLIT.split(text.strip(), maxsplit=1)
    if len(parts) != 3 or not parts[0] or not parts[2]:
        raise ConditionError(f"condition {text!r}: expected 'LEFT OP RIGHT' with OP one of {' '.join(_OPERATORS)}")
    left_text, operator, right_text = parts
    left = _parse_left(text, left_text)
    pattern = False
    if right_text.startswith("pat(") and right_text.endswith(")"):
        expected: tuple[str, ...] = (_unquote(right_text[4:-1]),)
        pattern = True
    elif right_text.startswith("any(") and right_text.endswith(")"):
        expected = tuple(_unquote(v) for v in right_text[4:-1].split(","))
    else:
        expected = (_unquote(right_text),)
    if (pattern or len(expected) > 1) and operator not in ("==", "!="):
        raise ConditionError(f"condition {text!r}: pat() and any() go with == or !=")
    if operator not in ("==", "!=") and _number(expected[0]) is None:
        raise ConditionError(f"condition {text!r}: {operator} needs a number on the right")
    return Condition(text, left, operator, expected, pattern)


def _parse_left(text: str, left: str) -> _Left:
    function = None
    inner = left
    for name in ("len", "has"):
        if left.startswith(f"{name}(") and left.endswith(")"):
            function, inner = name, left[len(name) + 1 : -1].strip()
    placeholder = next((p for p in _PLACEHOLDERS if inner.startswith(p)), None)
    if placeholder is None:
        raise ConditionError(f"condition {text!r}: the left side must start with one of {', '.join(_PLACEHOLDERS)}")
    rest = inner[len(placeholder):]
    path: tuple[str | int, ...] = ()
    if placeholder == "[HEADER]":
        if not rest.startswith(".") or len(rest) < 2:
            raise ConditionError(f"condition {text!r}: write [HEADER].Name")
        path = (rest[1:],)
    elif placeholder == "[BODY]":
        path = _parse_path(text, rest)
    elif rest:
        raise ConditionError(f"condition {text!r}: unexpected {rest!r} after {placeholder}")
    return _Left(left, placeholder, path, function)


def _parse_path(text: str, rest: str) -> tuple[str | int, ...]:
    steps: list[str | int] = []
    position = 0
    while position < len(rest):
        match = _PATH_STEP.match(rest, position)
        if match is None:
            raise ConditionError(f"condition {text!r}: cannot read the path {rest!r} (use .field and [index])")
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    return tuple(steps)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _as_text(value: Any) -> str:
    if value is None or isinstance(value, (bool, dict, list)):
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number else None


def _equal(actual: str, expected: str) -> bool:
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left == right
    return actual == expected


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
