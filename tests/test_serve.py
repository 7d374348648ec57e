"""`techfile serve` previews the site on localhost and rebuilds it when a source changes."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import SAMPLE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except OSError:
        return None


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def test_serve_rebuilds_on_change(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    port = free_port()
    techfile = str(Path(sys.executable).parent / "techfile")
    server = subprocess.Popen([techfile, "serve", str(project), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/index.html"
        assert wait_for(lambda: "Thoravis" in (fetch(url) or ""), 60)
        settings = project / "techfile.yaml"
        settings.write_text(settings.read_text(encoding="utf-8").replace("title: ", "title: Renamed ", 1), encoding="utf-8")
        assert wait_for(lambda: "Renamed" in (fetch(url) or ""), 60)
    finally:
        server.terminate()
        server.wait(timeout=20)
