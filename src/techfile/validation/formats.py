"""The `format` checks of the shipped schemas, as jsonschema's Draft 2020-12 format checker makes them, without
importing jsonschema (whose format module loads a URI grammar at import and takes seconds): `check` imports it
only to explain a document that fails."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache

FormatTest = Callable[[object], bool]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return bool(_DATE.fullmatch(value) and dt.date.fromisoformat(value))
    except ValueError:
        return False


def _datetime_test() -> FormatTest | None:
    try:
        from rfc3339_validator import validate_rfc3339
    except ImportError:
        return None
    return lambda value: not isinstance(value, str) or bool(validate_rfc3339(value.upper()))


def _uri_test() -> FormatTest | None:
    try:
        import rfc3987  # type: ignore[import-not-found]  # jsonschema prefers it when installed
    except ImportError:
        try:
            from rfc3986_validator import validate_rfc3986
        except ImportError:
            return None
        return lambda value: not isinstance(value, str) or bool(validate_rfc3986(value, rule="URI"))

    def test(value: object) -> bool:
        if not isinstance(value, str):
            return True
        try:
            return bool(rfc3987.parse(value, rule="URI"))
        except ValueError:
            return False
    return test


@cache
def format_test(name: str) -> FormatTest | None:
    """A test for format `name` (None when no check applies, as when jsonschema lacks the package it needs); formats
    not listed here are checked by jsonschema's own checker, imported on first use."""
    if name == "date":
        return _is_date
    if name == "date-time":
        return _datetime_test()
    if name == "uri":
        return _uri_test()

    def by_jsonschema(value: object) -> bool:
        from jsonschema import Draft202012Validator

        return Draft202012Validator.FORMAT_CHECKER.conforms(value, name)
    return by_jsonschema
