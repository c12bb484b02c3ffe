"""The deck model and the writer base shared by the Abaqus and CalculiX backends (each
dialect's writer lives with its backend), and ``compile_deck``, which is a deck backend's
``prepare``."""

from __future__ import annotations

from pathlib import Path

from footdt.backends.inp.deck import DIALECTS, Deck, Dialect, build_deck
from footdt.backends.inp.writer import DeckWriter
from footdt.errors import FootdtError
from footdt.ir import AnalysisModel
from footdt.spec.profile import SolverProfile


def deck_writer(backend_name: str) -> type[DeckWriter]:
    """The deck writer of a backend that writes one (its dialect lives with the backend)."""
    from footdt.backends import backend_class

    writer: type[DeckWriter] | None = getattr(backend_class(backend_name), "deck_writer", None)
    if writer is None:
        raise FootdtError(
            f"backend {backend_name!r} writes no deck; choose one of: {', '.join(deck_backends())}"
        )
    return writer


def write_deck(model: AnalysisModel, dialect: Dialect, solver: str | None = None) -> str:
    """The whole input deck of ``model`` in ``dialect`` ('abaqus' or 'calculix') as text;
    ``solver``: the dialect's linear solver card value (CalculiX: ``*STATIC, SOLVER=``)."""
    return deck_writer(dialect)(solver).write(build_deck(model))


def deck_backends() -> list[str]:
    """The registered backends whose ``prepare`` writes solver input files (a deck)."""
    from footdt.backends import REGISTRY, backend_class

    return [name for name in REGISTRY if backend_class(name).writes_inputs]


def stale_deck_files(out_dir: str | Path, backend_name: str) -> list[Path]:
    """Files in ``out_dir`` that would no longer fit once ``backend_name``'s inputs are written
    there: the inputs of another deck backend that ``backend_name`` does not write (the Abaqus
    run and extraction scripts when a CalculiX deck replaces the Abaqus one; results files are
    kept: they carry the model hash they belong to)."""
    from footdt.backends import backend_class

    own = set(backend_class(backend_name).inputs)
    others = {f for name in deck_backends() for f in backend_class(name).inputs} - own
    return [p for p in (Path(out_dir) / f for f in sorted(others)) if p.exists()]


def compile_deck(
    model: AnalysisModel,
    out_dir: str | Path,
    backend_name: str,
    options: SolverProfile | None = None,
) -> dict[str, Path]:
    """``footdt compile --backend``: the backend's ``prepare`` into ``out_dir``, for the backends
    that write solver inputs (abaqus: ``footdt.inp``, ``abaqus_extract.py`` and
    ``run_abaqus.sh``; calculix: ``footdt.inp``). Checks the backend's capabilities first
    (UnsupportedFeature names the backends that can) and removes the inputs of another deck
    backend that would run the new deck (``stale_deck_files`` names them first).
    Returns the written files by role. The model directory itself is written by the caller.
    """
    from footdt.backends import get_backend

    decks = deck_backends()
    if backend_name not in decks:
        raise FootdtError(
            f"backend {backend_name!r} writes no deck; choose one of: {', '.join(decks)}"
        )
    backend = get_backend(backend_name)
    opts = backend.resolve_options(options)
    backend.check(model)
    out = Path(out_dir)
    for stale in stale_deck_files(out, backend_name):
        stale.unlink()
    return dict(backend.prepare(model, out, opts).files)


__all__ = [
    "DIALECTS",
    "Deck",
    "DeckWriter",
    "Dialect",
    "build_deck",
    "compile_deck",
    "deck_backends",
    "deck_writer",
    "stale_deck_files",
    "write_deck",
]
