"""Build progress: a live status line on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_reporter() -> Iterator[Callable[[str], None]]:
    """Yield a function that reports a build step to the user (stderr)."""
    if not sys.stderr.isatty():
        yield lambda message: print(f"techfile: {message}", file=sys.stderr, flush=True)
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("building…") as status:
        def report(message: str) -> None:
            console.log(message)
            status.update(message)

        yield report
