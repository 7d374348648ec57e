"""`techfile serve`: build the site into a scratch folder, serve it, rebuild and reload when a source changes."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from techfile.publish.build import BuildFailure, BuildFindings, build
from techfile.reporting import report_text


def serve(directory: str, host: str, port: int, say: Callable[[str], None]) -> None:
    """Serve the project's site at http://host:port/ until interrupted; a failed rebuild keeps the last good site."""
    from mkdocs.livereload import LiveReloadServer

    scratch = Path(tempfile.mkdtemp(prefix="techfile-serve-"))
    out = scratch / "out"

    def rebuild() -> None:
        try:
            result = build(directory, out, pdf=False, docx=False)
            say(f"site rebuilt: {len(result.documents)} pages, {result.gap_count} gaps")
        except BuildFindings as findings:
            say(report_text(findings.diagnostics, directory, 0))
        except BuildFailure as failure:
            say(f"build failed: {failure}")

    rebuild()
    if not (out / "site").is_dir():
        shutil.rmtree(scratch, ignore_errors=True)
        raise BuildFailure("the first build failed; fix the sources and run `techfile serve` again")
    server = LiveReloadServer(builder=rebuild, host=host, port=port, root=str(out / "site"))
    server.watch(str(Path(directory).resolve()))
    say(f"serving on http://{host}:{port}/ (Ctrl+C to stop)")
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
