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
