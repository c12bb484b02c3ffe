"""Abaqus backend without Abaqus: a fake ``odbAccess`` drives abaqus_extract.py, a fake ``abaqus``
executable drives AbaqusBackend.solve, and read_abaqus_json is checked on good and broken files.

The fake module implements only the ODB API the script documents it uses (see its docstring).
A fake "ODB" file is JSON describing per-step element stresses/volumes and nodal U/RF.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from footdt.backends import abaqus_extract
from footdt.backends.abaqus import AbaqusBackend, AbaqusOptions, read_abaqus_json
from footdt.backends.inp import build_deck
from footdt.errors import FootdtError
from footdt.ir import AnalysisModel
from footdt.mechanics import tet_volumes, von_mises
from tests.factories import bar_model, inclusion_model

FAKE_ODB_ACCESS = '''
"""Fake odbAccess: just the calls abaqus_extract.py documents, reading a JSON "ODB"."""
import json

CENTROID = "CENTROID"


class Value(object):
    def __init__(self, data, double, elementLabel=None, nodeLabel=None, mises=None):
        self._data, self._double = data, double
        self.elementLabel, self.nodeLabel, self.mises = elementLabel, nodeLabel, mises

    @property
    def data(self):
        if self._double:
            raise RuntimeError("double precision data: use dataDouble")
        return self._data

    @property
    def dataDouble(self):
        if not self._double:
            raise RuntimeError("single precision data: use data")
        return self._data


class Field(object):
    def __init__(self, values, centroid_only=False):
        self.values, self._centroid_only = values, centroid_only

    def getSubset(self, region=None, position=None):
        if self._centroid_only and position != CENTROID:
            raise ValueError("S was requested at the centroid: pass position=CENTROID")
        keep = set(region.labels)
        return Field([v for v in self.values if v.elementLabel in keep])


class Repo(dict):
    pass


class Obj(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)



def openOdb(path, readOnly=True):
    spec = json.load(open(path))
    double = spec["double"]
    scalar = float
    if spec.get("float32"):  # numpy-backed ODB access returns numpy scalars
        import numpy

        scalar = numpy.float32
    sets = Repo((k, Obj(labels=v)) for k, v in spec["sets"].items())
    steps = Repo()
    for st in spec["steps"]:
        els = st["elements"]
        s = [Value(e["s"], double, elementLabel=int(k), mises=e["mises"]) for k, e in els.items()]
        evol = [Value(scalar(e["evol"]), double, elementLabel=int(k)) for k, e in els.items()]
        u = [Value(n["u"], double, nodeLabel=int(k)) for k, n in st["nodes"].items()]
        rf = [Value(n["rf"], double, nodeLabel=int(k)) for k, n in st["nodes"].items()]
        fields = Repo(S=Field(s, centroid_only=True), EVOL=Field(evol), U=Field(u), RF=Field(rf))
        for name in st.get("drop", []):
            del fields[name]
        end = st.get("stopped_at", 1.0)  # a run that did not finish the step stops earlier
        frames = [Obj(frameValue=end / 2, fieldOutputs=Repo()), Obj(frameValue=end, fieldOutputs=fields)]
        steps[st["name"]] = Obj(frames=frames, timePeriod=1.0)
    inst = Obj(elementSets=sets)
    return Obj(
        rootAssembly=Obj(instances=Repo({"PART-1-1": inst}), elementSets=Repo()),
        steps=steps,
        jobData=Obj(version=spec["version"]),
        analysisTitle=spec["title"],
        close=lambda: None,
    )
'''


def _prepare(model: AnalysisModel, out: Path) -> Mapping[str, Path]:
    """The files ``prepare`` writes (what ``footdt compile --backend abaqus`` writes)."""
    return AbaqusBackend().prepare(model, out, AbaqusOptions()).files


def _fake_odb(model: AnalysisModel, path: Path, double: bool = False, seed: int = 0) -> dict:
    """Write a JSON "ODB" with distinct per-element stresses (shuffled order) and nodal fields."""
    rng = np.random.default_rng(seed)
    deck = build_deck(model)
    vol = tet_volumes(model.nodes, model.elements)
    steps, truth = [], {}
    for phase in model.phases:
        s = rng.normal(size=(model.n_elements, 6))
        u, rf = rng.normal(size=(model.n_nodes, 3)), rng.normal(size=(model.n_nodes, 3))
        order = rng.permutation(model.n_elements)
        els = {
            str(e + 1): {"s": s[e].tolist(), "mises": float(von_mises(s[e])), "evol": float(vol[e])}
            for e in order
        }
        nodes = {
            str(n + 1): {"u": u[n].tolist(), "rf": rf[n].tolist()} for n in range(model.n_nodes)
        }
        steps.append({"name": phase.name.upper(), "elements": els, "nodes": nodes})
        truth[phase.name] = (s, u, rf)
    sets = {p.upper(): (np.asarray(idx) + 1).tolist() for p, idx in model.parts.items()}
    sets["FOOTDT_ALL_SOLIDS"] = list(range(1, model.n_elements + 1))
    spec = {
        "double": double,
        "version": "2022",
        "title": f"footdt model_hash={deck.model_hash} subject={model.subject} trial={model.trial}",
        "sets": sets,
        "steps": steps,
    }
    path.write_text(json.dumps(spec))
    return truth


@pytest.fixture
def fake_odb_access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the fake odbAccess (and hide abaqusConstants) for in-process runs of the script."""
    mod_dir = tmp_path / "fake_abaqus_python"
    mod_dir.mkdir()
    (mod_dir / "odbAccess.py").write_text(FAKE_ODB_ACCESS)
    spec = importlib.util.spec_from_file_location("odbAccess", mod_dir / "odbAccess.py")
    assert spec and spec.loader
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "odbAccess", module)
    monkeypatch.setitem(sys.modules, "abaqusConstants", None)  # import raises ImportError
    return mod_dir


@pytest.mark.parametrize("double", [False, True])
def test_extract_script_and_import_round_trip(
    tmp_path: Path, fake_odb_access: Path, double: bool
) -> None:
    model = inclusion_model(divisions=3)
    truth = _fake_odb(model, tmp_path / "job.odb", double=double)
    out = tmp_path / "out.json"
    assert abaqus_extract.main(["abaqus_extract.py", str(tmp_path / "job.odb"), str(out)]) == 0
    data = json.loads(out.read_text())
    assert sorted(data["steps"][0]["parts"]) == ["INCLUSION", "MATRIX"]  # FOOTDT_ sets skipped
    assert data["model_hash"] == model.content_hash() and data["abaqus_version"] == "2022"
    result = read_abaqus_json(out, model)
    deck = build_deck(model)
    for phase, step in zip(model.phases, deck.steps, strict=True):
        s, u, rf = truth[phase.name]
        ph = result.phases[phase.name]
        assert ph.stress is not None and ph.displacement is not None and ph.reaction is not None
        np.testing.assert_allclose(ph.stress, s)
        np.testing.assert_allclose(ph.von_mises, von_mises(s))
        np.testing.assert_allclose(ph.displacement, u)
        expected = np.zeros(3)
        np.add.at(
            expected, step.constrained[:, 1], rf[step.constrained[:, 0], step.constrained[:, 1]]
        )
        np.testing.assert_allclose(ph.reaction, expected)
    np.testing.assert_allclose(result.element_volume, tet_volumes(model.nodes, model.elements))
    assert result.backend == "abaqus" and result.backend_version == "2022"


def test_extract_script_refuses_missing_output(tmp_path: Path, fake_odb_access: Path) -> None:
    model = bar_model()
    _fake_odb(model, tmp_path / "job.odb")
    spec = json.loads((tmp_path / "job.odb").read_text())
    spec["steps"][0]["drop"] = ["EVOL"]
    (tmp_path / "job.odb").write_text(json.dumps(spec))
    with pytest.raises(SystemExit, match="no EVOL field output"):
        abaqus_extract.extract(str(tmp_path / "job.odb"), str(tmp_path / "out.json"))
    assert abaqus_extract.main(["abaqus_extract.py"]) == 2


def _good_json(tmp_path: Path, fake_odb_access: Path, model: AnalysisModel) -> Path:
    _fake_odb(model, tmp_path / "job.odb")
    out = tmp_path / "out.json"
    abaqus_extract.extract(str(tmp_path / "job.odb"), str(out))
    return out


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        (lambda d: "{not json", "not valid JSON"),
        (lambda d: {**d, "format": "other"}, "not a footdt Abaqus results file"),
        (lambda d: {**d, "format_version": 99}, "format version 99"),
        (lambda d: {**d, "model_hash": "0123456789abcdef"}, "belong to model 0123456789abcdef"),
        (lambda d: {**d, "steps": d["steps"][:0]}, "no step for phase 'load'"),
        (
            lambda d: {**d, "steps": [*d["steps"], {**d["steps"][0], "name": "EXTRA"}]},
            "EXTRA match no phase",
        ),
        (
            lambda d: _edit_part(d, lambda p: {**p, "labels": p["labels"][1:]}),
            "do not match the model",
        ),
        (
            lambda d: _edit_part(d, lambda p: {**p, "mises": [m * 2 for m in p["mises"]]}),
            "do not match the stress",
        ),
        (
            lambda d: _edit_part(d, lambda p: {k: v for k, v in p.items() if k != "evol"}),
            "malformed results file",
        ),
        (lambda d: {**d, "steps": [{**d["steps"][0], "parts": {}}]}, "no results for part 'body'"),
    ],
)
def test_read_abaqus_json_rejects_wrong_files(
    tmp_path: Path, fake_odb_access: Path, corrupt, match: str
) -> None:
    model = bar_model()
    path = _good_json(tmp_path, fake_odb_access, model)
    bad = corrupt(json.loads(path.read_text()))
    path.write_text(bad if isinstance(bad, str) else json.dumps(bad))
    with pytest.raises(FootdtError, match=match):
        read_abaqus_json(path, model)


def _edit_part(data: dict, change) -> dict:
    step = data["steps"][0]
    return {**data, "steps": [{**step, "parts": {"BODY": change(step["parts"]["BODY"])}}]}


def test_read_abaqus_json_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FootdtError, match="no such Abaqus results file"):
        read_abaqus_json(tmp_path / "nope.json", bar_model())


def _fake_abaqus(bin_dir: Path, mod_dir: Path, odb_spec: Path) -> None:
    """An `abaqus` that 'solves' by copying a prepared fake ODB and runs scripts with this Python."""
    bin_dir.mkdir()
    exe = bin_dir / "abaqus"
    exe.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        f'  python) shift; PYTHONPATH="{mod_dir}" exec "{sys.executable}" "$@" ;;\n'
        '  information=release) echo "Abaqus 2099.1"; exit 0 ;;\n'
        "  job=*) test -f footdt.inp || exit 3\n"
        # like Abaqus: with the files of an earlier run present, ask unless ask_delete=OFF
        '         case " $* " in *" ask_delete=OFF "*) ;; *) if [ -f footdt.odb ]; then\n'
        '           echo "Old job files exist. Overwrite? (y/n):"; exit 4; fi ;; esac\n'
        f'         cp "{odb_spec}" footdt.odb; exit 0 ;;\n'
        "esac\nexit 9\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


def test_availability_needs_abaqus_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    avail = AbaqusBackend().availability()
    assert (
        not avail
        and "abaqus not found" in avail.reason
        and "footdt compile --backend abaqus" in avail.reason
    )


def test_solve_with_a_fake_abaqus(
    tmp_path: Path, fake_odb_access: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = inclusion_model(divisions=3, connector_law="tension_only")
    truth = _fake_odb(model, tmp_path / "prepared.odb")
    _fake_abaqus(tmp_path / "bin", fake_odb_access, tmp_path / "prepared.odb")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    backend = AbaqusBackend()
    assert backend.availability() and backend.version() == "2099.1"
    result = backend.solve(model, tmp_path / "work")
    assert (tmp_path / "work" / "footdt.inp").is_file() and (
        tmp_path / "work" / "footdt_results.json"
    ).is_file()
    stress = result.phases["shear"].stress
    assert stress is not None
    np.testing.assert_allclose(stress, truth["shear"][0])
    assert result.model_hash == model.content_hash() and result.wall_time > 0


def test_solve_twice_in_one_folder(
    tmp_path: Path, fake_odb_access: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second solve in the same folder (the .odb of the first is there) must not stop at
    Abaqus's "Old job files exist. Overwrite?" question: the job runs with ask_delete=OFF."""
    model = bar_model()
    _fake_odb(model, tmp_path / "prepared.odb")
    _fake_abaqus(tmp_path / "bin", fake_odb_access, tmp_path / "prepared.odb")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    for _ in range(2):
        result = AbaqusBackend().solve(model, tmp_path / "work")
        assert result.phases["load"].stress is not None


def test_run_script_twice_extracts_only_the_parts(
    tmp_path: Path, fake_odb_access: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_abaqus.sh as a user runs it: twice in one folder (ask_delete=OFF), and with an element
    set Abaqus added to the ODB (a warning set holding a connector element, which has no S)."""
    import subprocess

    model = inclusion_model(divisions=3, connector_law="tension_only")
    _fake_odb(model, tmp_path / "prepared.odb")
    spec = json.loads((tmp_path / "prepared.odb").read_text())
    spec["sets"]["WARNELEMDISTORTED"] = [model.n_elements + 1]
    (tmp_path / "prepared.odb").write_text(json.dumps(spec))
    _fake_abaqus(tmp_path / "bin", fake_odb_access, tmp_path / "prepared.odb")
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    files = _prepare(model, tmp_path / "deck")
    for _ in range(2):
        proc = subprocess.run(["sh", str(files["run"])], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "deck" / "footdt_results.json").read_text())
    assert sorted(data["steps"][0]["parts"]) == ["INCLUSION", "MATRIX"]
    assert read_abaqus_json(tmp_path / "deck" / "footdt_results.json", model).backend == "abaqus"


def test_run_script_refuses_a_deck_of_another_dialect(tmp_path: Path) -> None:
    import subprocess

    from footdt.backends.inp import write_deck

    files = _prepare(bar_model(), tmp_path)
    files["inp"].write_text(write_deck(bar_model(), "calculix"))
    proc = subprocess.run(["sh", str(files["run"])], capture_output=True, text=True)
    assert proc.returncode == 2 and "not the Abaqus deck" in proc.stderr


def test_extract_reads_numpy_float32_scalars(tmp_path: Path, fake_odb_access: Path) -> None:
    model = bar_model()
    _fake_odb(model, tmp_path / "job.odb")
    spec = json.loads((tmp_path / "job.odb").read_text())
    (tmp_path / "job.odb").write_text(json.dumps({**spec, "float32": True}))
    data = abaqus_extract.extract(str(tmp_path / "job.odb"), str(tmp_path / "out.json"))
    vol = tet_volumes(model.nodes, model.elements)
    got = data["steps"][0]["parts"]["BODY"]
    np.testing.assert_allclose(got["evol"], vol[np.asarray(got["labels"]) - 1], rtol=1e-6)


def test_extract_names_a_missing_part(tmp_path: Path, fake_odb_access: Path) -> None:
    _fake_odb(bar_model(), tmp_path / "job.odb")
    with pytest.raises(SystemExit, match="no element set for part.*bone"):
        abaqus_extract.main(
            ["x", str(tmp_path / "job.odb"), str(tmp_path / "o.json"), "-", "body,bone"]
        )


def test_import_refuses_a_step_that_did_not_finish(tmp_path: Path, fake_odb_access: Path) -> None:
    """Abaqus keeps the frames of a step it could not finish; the last one is a partial load."""
    model = inclusion_model(divisions=3)
    _fake_odb(model, tmp_path / "job.odb")
    spec = json.loads((tmp_path / "job.odb").read_text())
    spec["steps"][1]["stopped_at"] = 0.375
    (tmp_path / "job.odb").write_text(json.dumps(spec))
    out = tmp_path / "out.json"
    abaqus_extract.extract(str(tmp_path / "job.odb"), str(out))
    with pytest.raises(
        FootdtError, match=r"step 'shear': the last frame is at step time 0.375 of 1"
    ):
        read_abaqus_json(out, model)
