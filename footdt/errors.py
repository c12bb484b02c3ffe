"""One exception hierarchy. Every error says what went wrong, where, and what to do.

The CLI prints ``str(error)`` as a single line and exits non-zero; nothing below
``FootdtError`` should ever reach the user as a traceback.
"""

from __future__ import annotations


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
