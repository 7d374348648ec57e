"""The shipped JSON Schemas, written out for editors."""

from __future__ import annotations

import shutil
from pathlib import Path

from techfile.resources import schemas_dir
from techfile.sources.kinds import SOURCE_KINDS


def write_schemas(target: Path) -> list[Path]:
    """Copy one schema per source kind into `target`; return the files written."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in SOURCE_KINDS:
        destination = target / kind.schema_file
        shutil.copyfile(schemas_dir() / kind.schema_file, destination)
        written.append(destination)
    return written
