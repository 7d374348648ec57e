"""Atomic output: build into a hidden sibling folder, then swap it in; on failure the old output stays as it was."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from techfile.documents.base import Document
from techfile.validation.prose import ProseImage


@contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside `out`; replace `out` with it only if the block succeeds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = None
    if out.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rename(out, retired / out.name)
    os.rename(staging, out)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def write_charts(document: Document, folder: Path) -> None:
    """Store a document's charts in `folder`/charts/, where its Markdown refers to them."""
    for chart in document.charts:
        (folder / "charts").mkdir(exist_ok=True)
        (folder / "charts" / f"{chart.name}.svg").write_bytes(chart.svg)


def write_images(images: Iterable[ProseImage], folder: Path) -> None:
    """Copy the project images that prose shows into `folder`/images/, where the Markdown refers to them."""
    for image in images:
        (folder / "images").mkdir(exist_ok=True)
        shutil.copyfile(image.source, folder / "images" / image.name)
