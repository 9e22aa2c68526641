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
         or pat(glob) for a shell pattern: pat(*healthy*) means "contains healthy".
         A bare literal holds no quotes or brackets and starts with no operator
         character: quote it ("1.2 (beta)") if it must.

`==`/`!=` compare as numbers when both sides are numbers, else as text (JSON
true/false/null read as `true`/`false`/`null`); `<`-style operators need numbers.

A condition that could never hold as written is refused when it is parsed, with a
message that names the problem: an operator typo (`=`, `===`, `=>`), a missing side,
an unknown placeholder (`[STATUS_CODE]`: did you mean [STATUS]?) or function, an
unclosed quote or bracket, text after a value, or a number placeholder ([STATUS],
[RESPONSE_TIME], len()) compared with something that is not a number. JSON field
names cannot hold `=`, `!`, `<` or `>` (the first run of those is the operator).
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .transport import NotJson, loads_json

_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_OPERATOR_CHARS = "=!<>"
_OPERATOR_RUN = re.compile(r"[=!<>]+")  # the first run is the operator: "===" is a typo, not "==" and "="
_GRAMMAR = f"LEFT OP RIGHT with OP one of {' '.join(_OPERATORS)}"
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d{1,9})\]")
_PLACEHOLDERS = ("[STATUS]", "[RESPONSE_TIME]", "[BODY]", "[HEADER]")
_LEFT_FUNCTIONS = ("len", "has")
_CALL = re.compile(r"([A-Za-z_]\w*)\s*\(")
_ITEM = re.compile(r"""\s*("[^"]*"|'[^']*'|[^,"']*)\s*""")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
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
            return loads_json(self.body)
        except NotJson:  # not JSON, or hostile JSON (nesting thousands deep, 1e400 ...)
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
            in_list = isinstance(step, int) and isinstance(value, list) and step < len(value)
            if in_list or (isinstance(step, str) and isinstance(value, dict) and step in value):
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
    """Parse one condition; ConditionError (one line, naming the problem) when it is not valid."""
    stripped = text.strip()
    found = _OPERATOR_RUN.search(stripped)
    if found is None:
        raise ConditionError(f"condition {text!r}: no operator; expected {_GRAMMAR}")
    operator = found.group()
    if operator not in _OPERATORS:
        raise ConditionError(f"condition {text!r}: {operator!r} is not an operator; expected {_GRAMMAR}")
    left_text, right_text = stripped[: found.start()].strip(), stripped[found.end() :].strip()
    if not left_text:
        raise ConditionError(f"condition {text!r}: nothing before {operator}; expected {_GRAMMAR}")
    if not right_text:
        raise ConditionError(f"condition {text!r}: nothing after {operator}; expected {_GRAMMAR}")
    left = _parse_left(text, left_text)
    expected, pattern = _parse_right(text, right_text)
    if (pattern or len(expected) > 1) and operator not in ("==", "!="):
        raise ConditionError(f"condition {text!r}: pat() and any() go with == or !=")
    if operator not in ("==", "!=") and _number(expected[0]) is None:
        raise ConditionError(f"condition {text!r}: {operator} needs a number on the right, got {expected[0]!r}")
    if not pattern:
        _check_kind(text, left, expected)
    return Condition(text, left, operator, expected, pattern)


def _parse_left(text: str, left: str) -> _Left:
    function = None
    inner = left
    call = _CALL.match(left)
    if call:
        function = call.group(1)
        if function not in _LEFT_FUNCTIONS:
            raise ConditionError(
                f"condition {text!r}: unknown function {function}(); the left side takes len() or has()"
            )
        if not left.endswith(")"):
            raise ConditionError(f"condition {text!r}: {function}( is not closed with )")
        inner = left[call.end() : -1].strip()
    placeholder = next((p for p in _PLACEHOLDERS if inner.startswith(p)), None)
    if placeholder is None:
        raise ConditionError(f"condition {text!r}: {_placeholder_problem(inner)}")
    rest = inner[len(placeholder) :]
    path: tuple[str | int, ...] = ()
    if placeholder == "[HEADER]":
        if not rest.startswith(".") or len(rest) < 2:
            raise ConditionError(f"condition {text!r}: write [HEADER].Name")
        if not _HEADER_NAME.fullmatch(rest[1:]):
            raise ConditionError(f"condition {text!r}: {rest[1:]!r} is not a header name")
        path = (rest[1:],)
    elif placeholder == "[BODY]":
        path = _parse_path(text, rest)
    elif rest:
        raise ConditionError(f"condition {text!r}: unexpected {rest!r} after {placeholder}")
    return _Left(left, placeholder, path, function)


def _placeholder_problem(inner: str) -> str:
    """Why the left side does not start with a placeholder, with a suggestion where one fits."""
    written = inner[: inner.index("]") + 1] if inner.startswith("[") and "]" in inner else ""
    known = ", ".join(_PLACEHOLDERS)
    if not written:
        return f"the left side must start with one of {known}"
    close = difflib.get_close_matches(written.upper(), _PLACEHOLDERS, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else f"; known: {known}"
    return f"unknown placeholder {written}{hint}"


def _parse_path(text: str, rest: str) -> tuple[str | int, ...]:
    steps: list[str | int] = []
    position = 0
    while position < len(rest):
        match = _PATH_STEP.match(rest, position)
        if match is None:
            raise ConditionError(
                f"condition {text!r}: cannot read the path {rest!r} (use .field and [index], index up to 9 digits)"
            )
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    return tuple(steps)


def _parse_right(text: str, right: str) -> tuple[tuple[str, ...], bool]:
    """The expected values, and whether the one value is a pat() pattern."""
    call = _CALL.match(right)
    if call is None:
        return (_literal(text, right),), False
    function = call.group(1)
    if function not in ("any", "pat"):
        raise ConditionError(
            f"condition {text!r}: unknown function {function}(); the right side takes any(...) or pat(...)"
            " (quote a value that looks like a call)"
        )
    if not right.endswith(")"):
        raise ConditionError(f"condition {text!r}: {function}( is not closed with )")
    inner = right[call.end() : -1]
    if function == "pat":
        pattern = _unquote(inner)  # a shell pattern, taken as written: it may hold quotes and brackets
        if not pattern:
            raise ConditionError(f"condition {text!r}: pat() needs a pattern")
        return (pattern,), True
    return _items(text, inner), False


def _items(text: str, inner: str) -> tuple[str, ...]:
    """any(a, "b, c", d): comma-separated values, quotes keeping a comma in."""
    items: list[str] = []
    rest = inner
    while True:
        match = _ITEM.match(rest)
        assert match is not None  # the pattern matches the empty string
        items.append(_literal(text, match.group(1)))
        rest = rest[match.end() :]
        if not rest:
            return tuple(items)
        if rest[0] != ",":
            raise ConditionError(f"condition {text!r}: unexpected {rest[:20]!r} in any(...)")
        rest = rest[1:]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _literal(text: str, value: str) -> str:
    """One value as written: quoted (anything inside) or bare (no quotes, brackets or leading operator)."""
    value = value.strip()
    if not value:
        raise ConditionError(f'condition {text!r}: an empty value (write "" for the empty text)')
    if value[0] in "\"'":
        closing = value.find(value[0], 1)
        if closing == -1:
            raise ConditionError(f"condition {text!r}: the quote in {value[:20]!r} is not closed")
        if closing != len(value) - 1:
            raise ConditionError(f"condition {text!r}: unexpected text after the quoted value in {value[:30]!r}")
        return value[1:-1]
    if value[0] in _OPERATOR_CHARS:
        raise ConditionError(f"condition {text!r}: unexpected {value[0]!r} before {value!r}; quote such a value")
    odd = next((c for c in value if c in "\"'()"), None)
    if odd is not None:
        raise ConditionError(f"condition {text!r}: unexpected {odd!r} in {value!r}; quote such a value")
    return value


def _check_kind(text: str, left: _Left, expected: tuple[str, ...]) -> None:
    """A number compared with text (or has() with anything but true/false) can never hold: a typo."""
    if left.function == "has":
        wrong = next((v for v in expected if v not in ("true", "false")), None)
        if wrong is not None:
            raise ConditionError(f"condition {text!r}: has() is true or false, not {wrong!r}")
    elif left.function == "len" or left.placeholder in ("[STATUS]", "[RESPONSE_TIME]"):
        wrong = next((v for v in expected if _number(v) is None), None)
        if wrong is not None:
            raise ConditionError(f"condition {text!r}: {left.text} is a number, not {wrong!r}")


def _as_text(value: Any) -> str:
    if value is None or isinstance(value, (bool, dict, list)):
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(text: str) -> float | None:
    """The text as a finite number, else None."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _equal(actual: str, expected: str) -> bool:
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left == right
    return actual == expected


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
