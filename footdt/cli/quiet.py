"""TensorFlow's start-up and retracing noise kept off the terminal unless ``footdt --verbose``.

TensorFlow 2.20+ logs through absl before ``absl::InitializeLog()`` runs, straight to file
descriptor 2, and ``TF_CPP_MIN_LOG_LEVEL`` does not reach those lines (CUDA drivers not found,
oneDNN notices, cuDNN/cuBLAS factory registration); they are all written while ``import
tensorflow`` runs. So the import happens here, once, with descriptor 2 pointed at /dev/null (and
restored before anything else runs; an import error is still raised and shown). Afterwards
TensorFlow's Python logger (retracing warnings) and absl's are set to errors only, and
Python warnings from TensorFlow and Keras are ignored. ``--verbose`` leaves all of it alone.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_STATE = {"verbose": False, "done": False}


def set_verbose(verbose: bool) -> None:
    """Called by the root command with ``--verbose``."""
    _STATE["verbose"] = bool(verbose)
    if verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
    else:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # child processes too
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


def verbose() -> bool:
    return bool(_STATE["verbose"])


@contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a captured stream without a descriptor
        fd = 2
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def import_tensorflow() -> None:
    """Import TensorFlow (and Keras) the quiet way unless verbose; a no-op when already done or
    when TensorFlow is not installed (the command that needs it says so itself)."""
    if _STATE["done"]:
        return
    _STATE["done"] = True
    if verbose():
        return
    import logging
    import warnings

    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    if "tensorflow" not in sys.modules:
        try:
            with _stderr_to_devnull():
                import tensorflow  # noqa: F401
        except ImportError:
            return
    for name in ("tensorflow", "absl", "keras", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass
    for module in ("tensorflow", "keras", "absl"):
        warnings.filterwarnings("ignore", module=module)
