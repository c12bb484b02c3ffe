"""Cache keys follow the code that made the cached file; cache entries read or rebuild."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import footdt
from footdt import fileio
from footdt.fileio import cached_file, source_digest


def test_source_digest_changes_with_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    package = tmp_path / "footdt"
    shutil.copytree(Path(footdt.__file__).parent / "mesh", package / "mesh")
    shutil.copy(fileio.__file__, package / "fileio.py")
    monkeypatch.setattr(fileio, "__file__", str(package / "fileio.py"))
    before = source_digest("mesh/foot.py", "mesh/quality.py")
    assert before == source_digest("mesh/foot.py", "mesh/quality.py")
    assert before != source_digest("mesh/foot.py")
    with (package / "mesh" / "foot.py").open("a") as fh:
        fh.write("\n# changed\n")
    assert source_digest("mesh/foot.py", "mesh/quality.py") != before


def test_template_mesh_cache_key_names_the_mesher_code():
    from footdt.mesh.store import TEMPLATE_MESH_CODE

    root = Path(footdt.__file__).parent
    assert all((root / rel).is_file() for rel in TEMPLATE_MESH_CODE)
    assert {"mesh/foot.py", "mesh/foot_occ.py", "anatomy/template.py"} <= set(TEMPLATE_MESH_CODE)


def test_cached_file_rebuilds_a_damaged_entry(tmp_path: Path):
    path = tmp_path / "entry.txt"
    built: list[str] = []

    def load(p: Path) -> str:
        text = p.read_text()
        if not text.startswith("ok"):
            raise ValueError(text)
        return text

    def build() -> str:
        built.append("x")
        return "ok 1"

    save = Path.write_text
    assert cached_file(path, load, build, lambda v, p: save(p, v), ValueError) == "ok 1"
    assert cached_file(path, load, build, lambda v, p: save(p, v), ValueError) == "ok 1"
    assert len(built) == 1
    path.write_text("garbage")
    assert cached_file(path, load, build, lambda v, p: save(p, v), ValueError) == "ok 1"
    assert len(built) == 2
