"""`import footdt` and `footdt --help` must not import the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("tensorflow", "sfepy", "gmsh", "opensim", "gias3", "keras", "optuna", "pypardiso", "pyamg")


def _loaded_after(code: str) -> set[str]:
    # gias3's namespace-package .pth files put an empty, never-executed ``gias3`` module into
    # sys.modules at interpreter start-up: count a module only once its code has run.
    probe = (
        f"{code}\nimport sys\n"
        "ran = {k.split('.')[0] for k, v in list(sys.modules.items()) if '__builtins__' in vars(v)}\n"
        f"print('HEAVY:', ' '.join(m for m in {HEAVY!r} if m in ran))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("HEAVY:")][-1]
    return set(line.split()[1:])


def test_import_footdt_is_light() -> None:
    assert _loaded_after("import footdt") == set()


def test_cli_help_is_light() -> None:
    code = (
        "import sys\nsys.argv=['footdt','--help']\n"
        "from footdt.cli.app import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    assert _loaded_after(code) == set()


def test_backend_registry_is_light() -> None:
    assert (
        _loaded_after(
            "from footdt.backends import get_backend\n[get_backend(n) for n in ('abaqus','calculix','sfepy','native')]"
        )
        == set()
    )
