"""One exception hierarchy. Every error says what went wrong, where, and what to do.

The CLI prints ``str(error)`` as a single line and exits non-zero; nothing below
``FootdtError`` should ever reach the user as a traceback.
"""

from __future__ import annotations

from typing import Any

#: Longest line of an error as printed (``error: `` + message); a message line is kept within
#: ``MAX_MESSAGE`` characters so the printed line fits.
MAX_LINE = 300
MAX_MESSAGE = MAX_LINE - len("error: ")


def excerpt(value: Any, limit: int = 40) -> str:
    """``repr`` of a user's value, cut to about ``limit`` characters and kept on one line, for
    quoting it in an error message (a value may be megabytes long or hold newlines)."""
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails is still named
        text = f"<{type(value).__name__}>"
    text = text.replace("\n", " ").replace("\r", " ")
    if len(text) > limit:
        text = text[: max(limit - 5, 1)] + "...[" + str(len(text)) + " chars]"
    return text


def shorten(line: str, limit: int = MAX_MESSAGE) -> str:
    """One line of at most ``limit`` characters: a longer one keeps its start (where) and end
    (what to do) around an ellipsis."""
    line = " ".join(line.split()) if ("\n" in line or "\r" in line) else line
    if len(line) <= limit:
        return line
    head = limit * 2 // 3
    tail = limit - head - 5
    return f"{line[:head]} ... {line[-tail:]}"


class FootdtError(Exception):
    """Base class of every error footdt raises on purpose."""

    exit_code = 1


class SpecError(FootdtError):
    """A spec file is malformed or inconsistent (message starts with ``file:line:``)."""

    exit_code = 2


class ModelError(FootdtError):
    """The analysis model cannot be built or is inconsistent (floating part, bad connector...)."""


class ModelDirError(FootdtError):
    """A compiled model directory is missing files or does not match its content hash."""


class BackendUnavailable(FootdtError):
    """A backend cannot run here; the message says what to install."""


class UnsupportedFeature(FootdtError):
    """A backend cannot express a model feature; the message names backends that can."""


class SolveError(FootdtError):
    """A solve failed or produced a result that fails its own checks (e.g. residual)."""


class StoreError(FootdtError):
    """The label store cannot be opened, read or written."""


class MeshError(FootdtError):
    """Meshing failed or the mesh fails the quality gate."""
