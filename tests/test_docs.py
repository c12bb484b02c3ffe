"""Code examples in docs/ and README.md run as tests; a ```text block right after one is its output."""

from __future__ import annotations

import contextlib
import io
import os
import re
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCS = [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]
BLOCK = re.compile(r"```python\n(.*?)```(?:\s*\n *```text\n(.*?) *```)?", re.S)


def _examples() -> list[tuple[Path, int, str, str | None]]:
    out = []
    for doc in DOCS:
        for i, m in enumerate(BLOCK.finditer(doc.read_text())):
            # a block inside a list item is indented: run and compare it dedented
            expected = m.group(2) and textwrap.dedent(m.group(2))
            out.append((doc, i, textwrap.dedent(m.group(1)), expected))
    return out


@pytest.mark.parametrize(
    ("doc", "index", "code", "expected"),
    _examples(),
    ids=[f"{d.name}[{i}]" for d, i, _, _ in _examples()],
)
def test_doc_example_runs(
    doc: Path, index: int, code: str, expected: str | None, tmp_path: Path
) -> None:
    cwd = os.getcwd()
    for name in ("specs", "solvers"):
        (tmp_path / name).symlink_to(REPO / name)
    os.chdir(tmp_path)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(
                compile(code, f"{doc.name}[{index}]", "exec", dont_inherit=True),
                {"__name__": "__doc_example__"},
            )
    finally:
        os.chdir(cwd)
    if expected is not None:
        assert out.getvalue().strip() == expected.strip()
