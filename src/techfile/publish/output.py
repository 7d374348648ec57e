"""Atomic output: build into a hidden sibling folder, then swap it in; on failure the old output stays as it was.

One build at a time writes a given output: a lock file beside it (`.NAME.lock`, held with flock) says which
process does. Holding the lock, a build removes what builds that died left beside the output (staging folders
`.NAME.tmp-*`, retired outputs `.NAME.old-*`) and, if one died between the two renames of a swap, puts the previous
output back. On Linux the swap is one atomic exchange of the two folders (renameat2 RENAME_EXCHANGE)."""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from techfile.documents.base import Document
from techfile.validation.prose import ProseImage

STAGING_TAG, RETIRED_TAG, LOCK_TAG, CACHE_TAG = ".tmp-", ".old-", ".lock", ".cache"  # the cache: publish/cache.py


class OutputBusy(Exception):
    """Another live process is writing the same output."""


def sibling_names(out: Path) -> tuple[str, ...]:
    """Glob patterns of the hidden files and folders a build keeps beside `out` (for git status to ignore)."""
    return (f".{out.name}{STAGING_TAG}*", f".{out.name}{RETIRED_TAG}*", f".{out.name}{LOCK_TAG}", f".{out.name}{CACHE_TAG}")


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold `.NAME.lock` beside `out` for the block; raise OutputBusy at once if a live process holds it.

    The kernel releases the lock when its holder dies, however it dies, so a killed build never blocks the next one.
    Where flock does not exist (Windows), builds are not locked."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    lock_path = out.parent / f".{out.name}{LOCK_TAG}"
    while True:
        handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip()
            os.close(handle)
            raise OutputBusy(f"another techfile process{f' (pid {holder})' if holder.isdigit() else ''} is writing "
                             f"{out.as_posix()}; wait for it to finish, or write elsewhere with --out") from None
        try:
            same = os.path.samestat(os.fstat(handle), os.stat(lock_path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(handle)  # the holder we waited for removed the file: lock the one that replaced it
    try:
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        try:
            os.unlink(lock_path)  # still holding it, so nobody else has this file locked
        except FileNotFoundError:
            pass
        os.close(handle)


def remove_leftovers(out: Path) -> list[Path]:
    """With the lock held: delete what dead builds left beside `out`, after putting back a previous output that a
    build moved aside and died before swapping in its own. Returns what was removed."""
    leftovers = sorted(p for p in out.parent.iterdir()
                       if p.name.startswith((f".{out.name}{STAGING_TAG}", f".{out.name}{RETIRED_TAG}")))
    if not os.path.lexists(out):
        for retired in (p for p in leftovers if p.name.startswith(f".{out.name}{RETIRED_TAG}")):
            if (retired / out.name).is_dir():
                os.rename(retired / out.name, out)
                break
    for leftover in leftovers:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return leftovers


@contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside `out`; replace `out` with it only if the block succeeds.

    Raises OutputBusy when another process is writing `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(out):
        remove_leftovers(out)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}{STAGING_TAG}", dir=out.parent))
        try:
            yield staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        swap_in(staging, out)


def swap_in(staging: Path, out: Path) -> None:
    """Make `staging` the new `out`. The previous `out` is complete until the new one is in place, then removed."""
    if not os.path.lexists(out):
        os.rename(staging, out)
        return
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous output
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}{RETIRED_TAG}", dir=out.parent))
    os.rename(out, retired / out.name)  # a build killed here is repaired by the next one (remove_leftovers)
    os.rename(staging, out)
    shutil.rmtree(retired, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders atomically (Linux renameat2 with RENAME_EXCHANGE); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    failure = ctypes.get_errno()
    if failure in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False  # the kernel or the file system cannot exchange: fall back to two renames
    raise OSError(failure, os.strerror(failure), str(second))


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


def logo_name(logo: str) -> str:
    """Where the build keeps the project's logo, beside the Markdown: branding/logo.<ext>."""
    return f"branding/logo{Path(logo).suffix.lower()}"


def write_logo(root: Path, logo: str | None, folder: Path) -> None:
    """Copy the project's logo (checked by `check`: a PNG or JPEG inside the project) into `folder`/branding/."""
    if logo:
        (folder / "branding").mkdir(exist_ok=True)
        shutil.copyfile((root / logo).resolve(), folder / logo_name(logo))
