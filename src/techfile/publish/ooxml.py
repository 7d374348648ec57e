"""Office Open XML packages (DOCX, XLSX) are zip files: rewrite them with fixed entry times, modes and order, so the
same document gives the same bytes whatever the clock and the file times say."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable

ZIP_EPOCH_MIN = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)
FILE_MODE = 0o100644
CONTENT_TYPES = "[Content_Types].xml"


def zip_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    """The build epoch as a zip entry time (UTC, clamped to the zip format's range, even seconds)."""
    moment = max(dt.datetime.fromtimestamp(epoch, tz=dt.UTC), ZIP_EPOCH_MIN)
    moment = min(moment, dt.datetime(2107, 12, 31, 23, 59, 58, tzinfo=dt.UTC))
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second - moment.second % 2)


def normalised_package(data: bytes, epoch: int, edit: Callable[[str, bytes], bytes] | None = None) -> bytes:
    """The package `data` rewritten deterministically: [Content_Types].xml first, then the other parts in name order,
    each deflated with the build epoch as its time; `edit(name, content)` may change a part's content on the way."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist() if not info.is_dir()}
    names = sorted(parts, key=lambda name: (name != CONTENT_TYPES, name))
    stamp = zip_time(epoch)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = FILE_MODE << 16
            content = edit(name, parts[name]) if edit else parts[name]
            target.writestr(info, content, compresslevel=9)
    return out.getvalue()
