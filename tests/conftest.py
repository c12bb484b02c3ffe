from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """Tests build their own template meshes and shape models: never read a user's cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FOOTDT_CACHE", str(tmp_path_factory.mktemp("footdt-cache")))
    yield
    mp.undo()


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
