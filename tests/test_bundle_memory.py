"""`techfile bundle` and `techfile verify` stream every file: a 2 GiB evidence file (sparse, so it costs no disk)
goes into the bundle and is checked back with a peak memory far below its size. Measured on the real command in a
child process (its peak resident set, and that of every process it started, as the kernel reports it)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli

BIG = 2 << 30  # 2 GiB
PEAK_LIMIT_MB = 300


# A small go-between starts techfile and reports what the kernel says about it. Measuring a child of the test
# process directly would count the test process itself: a forked child's peak includes the pages it shared with
# its parent until it started the new program.
MEASURE = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
)
CLI = "import sys; from techfile.cli import main; sys.exit(main())"


def peak_rss_mb(*args: str) -> tuple[int, float]:
    """Run `techfile ARGS`; (exit code, the largest peak RSS in MB among it and the processes it waited for)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-c", CLI, *args], capture_output=True,
                          text=True, check=True, env=os.environ.copy())
    code, kilobytes = done.stdout.split()
    return int(code), int(kilobytes) / 1024  # Linux reports kilobytes


def sparse_zeros_sha256(size: int) -> str:
    digest, block = hashlib.sha256(), bytes(1 << 20)
    for _ in range(size // len(block)):
        digest.update(block)
    return digest.hexdigest()


@pytest.fixture
def project_with_big_evidence(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    assert run_cli("init", str(project), "--template", "minimal").exit_code == 0
    big = project / "evidence" / "files" / "inference-log-2026-10.bin"
    with big.open("wb") as stream:
        stream.truncate(BIG)
    (project / "evidence" / "ev-inference-log.yaml").write_text(
        "id: ev-inference-log\ntitle: Inference log, October 2026\ntype: log\n"
        f"file: evidence/files/{big.name}\nsha256: {sparse_zeros_sha256(BIG)}\ncollected: \"2026-10-31\"\n"
        "owner: Jane Doe, AI Risk Owner\n", encoding="utf-8")
    control = project / "controls" / "ctl-agent-review.yaml"
    control.write_text(control.read_text(encoding="utf-8").replace(
        "  - ev-monthly-accuracy-check\n", "  - ev-monthly-accuracy-check\n  - ev-inference-log\n"), encoding="utf-8")
    return project


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss units and sparse files as on Linux")
def test_a_2_gib_evidence_file_is_bundled_and_verified_in_bounded_memory(project_with_big_evidence: Path,
                                                                          tmp_path: Path) -> None:
    assert run_cli("check", str(project_with_big_evidence), "--strict").exit_code == 0
    target = tmp_path / "big.zip"
    code, bundle_peak = peak_rss_mb("bundle", str(project_with_big_evidence), "--out", str(target))
    assert code == 0
    assert bundle_peak < PEAK_LIMIT_MB, f"bundle peaked at {bundle_peak:.0f} MB"
    assert target.stat().st_size < 64 << 20  # 2 GiB of zeros, deflated

    import zipfile

    with zipfile.ZipFile(target) as archive:
        info = archive.getinfo("evidence/evidence/files/inference-log-2026-10.bin")
        assert info.file_size == BIG
        assert [i.filename for i in archive.infolist()].count(info.filename) == 1
        assert not any(i.filename.startswith("sources/evidence/files/") for i in archive.infolist())

    code, verify_peak = peak_rss_mb("verify", str(target))
    assert code == 0
    assert verify_peak < PEAK_LIMIT_MB, f"verify peaked at {verify_peak:.0f} MB"
