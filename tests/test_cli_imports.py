"""`techfile check` stays fast: the CLI module does not pull in the heavy toolchain."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("mkdocs", "material", "pypandoc", "typst", "matplotlib", "jinja2", "rich",
         "fairlearn", "sklearn", "numpy", "pandas", "pyarrow", "scipy")


def test_importing_cli_imports_no_heavy_module() -> None:
    code = f"import sys, techfile.cli; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_check_run_imports_no_heavy_module() -> None:
    code = (
        "import sys; from techfile.loading import load_project; load_project(sys.argv[1]);"
        f"print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    from conftest import SAMPLE

    loaded = subprocess.run([sys.executable, "-c", code, str(SAMPLE)], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_check_run_does_not_compile_rfc3987_grammar() -> None:
    code = ("import sys; from techfile.loading import load_project; load_project(sys.argv[1]);"
            "print(bool(sys.modules.get('rfc3987_syntax')))")
    from conftest import SAMPLE

    assert subprocess.run([sys.executable, "-c", code, str(SAMPLE)], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_second_check_does_not_decode_images_found_good(tmp_path) -> None:
    """An image whose bytes decoded once is not decoded again (Pillow's decoders stay unimported); other bytes are."""
    import os
    import shutil

    from conftest import SAMPLE

    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build", ".build*"))
    code = ("import sys; from techfile.loading import load_project; loaded = load_project(sys.argv[1]);"
            "print('PIL.Image' in sys.modules, sorted({d.code for d in loaded.diagnostics if d.code == 'TF406'}))")
    environment = {**os.environ, "TECHFILE_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> str:
        return subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True, text=True, check=True,
                              env=environment).stdout.strip()

    assert run() == "True []"  # decoded, found good, remembered
    assert run() == "False []"  # the same bytes: not decoded again
    logo = project / "docs" / "assets" / "logo.png"
    logo.write_bytes(logo.read_bytes()[:200])  # a truncated PNG: new bytes, decoded, and found broken
    assert run() == "True ['TF406']"
    assert run() == "True ['TF406']"  # a bad verdict is never remembered
