"""TensorFlow's start-up and retracing messages stay off stderr unless --verbose."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
from footdt.cli.quiet import import_tensorflow, set_verbose
set_verbose({verbose})
import_tensorflow()
import tensorflow as tf
@tf.function
def f(x):
    return x * 2
for i in range(8):  # a new shape each call: TensorFlow warns about retracing
    f(tf.constant([1.0] * (i + 1)))
print("ok")
"""


def test_tensorflow_is_quiet_unless_verbose() -> None:
    pytest.importorskip("tensorflow")
    quiet = subprocess.run([sys.executable, "-c", CODE.format(verbose=False)], capture_output=True,
                           text=True, check=True, timeout=120)  # fmt: skip
    assert quiet.stdout.strip() == "ok" and quiet.stderr.strip() == "", quiet.stderr
    loud = subprocess.run([sys.executable, "-c", CODE.format(verbose=True)], capture_output=True,
                          text=True, check=True, timeout=120)  # fmt: skip
    assert loud.stdout.strip() == "ok" and "retracing" in loud.stderr
