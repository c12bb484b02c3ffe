"""The deck model and writer shared by the Abaqus and CalculiX backends."""

from __future__ import annotations

from pathlib import Path

from footdt.backends.inp.deck import DIALECTS, Deck, Dialect, build_deck
from footdt.backends.inp.writer import DeckWriter
from footdt.errors import FootdtError
from footdt.ir import AnalysisModel


def write_deck(model: AnalysisModel, dialect: Dialect, solver: str | None = None) -> str:
    """The whole input deck of ``model`` in ``dialect`` ('abaqus' or 'calculix') as text."""
    return DeckWriter(dialect, solver).write(build_deck(model))


def stale_deck_files(out_dir: str | Path, backend_name: str) -> list[Path]:
    """Files in ``out_dir`` that would no longer fit once ``backend_name``'s ``footdt.inp`` is
    written there: the Abaqus run and extraction scripts when a CalculiX deck replaces the Abaqus
    one (results files are kept: they carry the model hash they belong to)."""
    if backend_name == "abaqus":
        return []
    from footdt.backends.abaqus import ABAQUS_ONLY_FILES

    return [p for p in (Path(out_dir) / f for f in ABAQUS_ONLY_FILES) if p.exists()]


def compile_deck(
    model: AnalysisModel, out_dir: str | Path, backend_name: str, linear_solver: str = "default"
) -> dict[str, Path]:
    """Write the solver inputs of ``model`` for ``backend_name`` ('abaqus' or 'calculix') into ``out_dir``.

    abaqus: ``footdt.inp``, ``abaqus_extract.py`` and ``run_abaqus.sh``; calculix: ``footdt.inp``
    (and the Abaqus scripts of an earlier Abaqus compile into the same folder are removed: they
    would run the CalculiX deck; ``stale_deck_files`` names them first).
    Checks the backend's capabilities first (UnsupportedFeature names the backends that can).
    Returns the written files by role. The model directory itself is written by the caller.
    """
    if backend_name not in DIALECTS:
        raise FootdtError(
            f"backend {backend_name!r} writes no deck; choose one of: {', '.join(DIALECTS)}"
        )
    from footdt.backends import get_backend

    backend = get_backend(backend_name)
    backend.check(model)
    out = Path(out_dir)
    for stale in stale_deck_files(out, backend_name):
        stale.unlink()
    if backend_name == "abaqus":
        return backend.write_inputs(model, out)  # type: ignore[attr-defined]
    return backend.write_inputs(model, out, linear_solver)  # type: ignore[attr-defined]


__all__ = [
    "DIALECTS",
    "Deck",
    "DeckWriter",
    "Dialect",
    "build_deck",
    "compile_deck",
    "stale_deck_files",
    "write_deck",
]
