from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("ccx"):
        return
    skip = pytest.mark.skip(reason="ccx not found (apt-get install calculix-ccx)")
    for item in items:
        if "needs_ccx" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write a spec text to a file in tmp_path and return its path."""

    def _write(text: str, name: str = "spec.yaml") -> Path:
        p = tmp_path / name
        p.write_text(text)
        return p

    return _write
