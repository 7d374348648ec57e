"""SOURCE_DATE_EPOCH (reproducible-builds.org), read the same way everywhere: whole seconds since 1970-01-01 UTC,
up to the last second of year 9999."""

from __future__ import annotations

import os
import re

LATEST_EPOCH = 253402300799  # 9999-12-31T23:59:59Z, the last second a date can show


class SourceDateError(ValueError):
    """SOURCE_DATE_EPOCH is set but is not a time."""


def source_date_epoch() -> int | None:
    """The epoch SOURCE_DATE_EPOCH sets, None when it is unset or empty; raises SourceDateError when it is not a time
    (the specification asks a build to stop then, not to ignore it)."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{1,12}", value) or int(value) > LATEST_EPOCH:
        shown = value if len(value) <= 24 else value[:20] + "…"
        raise SourceDateError(f"SOURCE_DATE_EPOCH={shown!r} is not a time: give whole seconds since 1970-01-01 UTC, "
                              f"at most {LATEST_EPOCH}, or unset it")
    return int(value)
