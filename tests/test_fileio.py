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


def test_atomic_write_follows_the_umask(tmp_path: Path):
    """Written files are readable by whom the umask allows (0644 under umask 022), not 0600."""
    import os

    old = os.umask(0o022)
    try:
        path = fileio.atomic_write(tmp_path / "a.txt", lambda tmp: tmp.write_text("x"))
        assert path.stat().st_mode & 0o777 == 0o644
        os.umask(0o027)
        path = fileio.atomic_write(tmp_path / "b.txt", lambda tmp: tmp.write_text("x"))
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
    assert not list(tmp_path.glob(".*.tmp"))


def test_json_digest_is_canonical():
    a = fileio.json_digest({"b": 1, "a": [1.5, "x"]})
    assert a == fileio.json_digest({"a": [1.5, "x"], "b": 1}) and len(a) == 16
    assert a != fileio.json_digest({"a": [1.5, "x"], "b": 2})
    assert fileio.canonical_json({"b": 1, "a": Path("p")}) == '{"a":"p","b":1}'
