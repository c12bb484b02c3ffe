# ruff: noqa: UP010, UP031, SIM118
# This script also runs under the Python 2.7 of older Abaqus releases (no f-strings), and ODB
# repositories are only documented to offer .keys(), so keys are listed explicitly.
"""Abaqus-Python script: element stresses, von Mises and volumes per step and part to JSON.

Run inside Abaqus (Python 2.7 in Abaqus <= 2023, Python 3 from 2024; only the standard library
and the Abaqus ODB API are used):

    abaqus python abaqus_extract.py JOB.odb OUT.json [MODEL_HASH]

For every step (= footdt phase) it reads the last frame and writes, per element set that is a
footdt part (every set whose name does not start with FOOTDT_), the element labels, centroidal
stress S (S11, S22, S33, S12, S13, S23 = xx, yy, zz, xy, xz, yz; MPa), Abaqus' von Mises value
and the element volume EVOL (mm^3); and, for every node, U (mm) and RF (N). ``footdt labels
import OUT.json`` reads the file (footdt.backends.abaqus.read_abaqus_json).

ODB API used (Abaqus Scripting Reference, odbAccess): openOdb(path=, readOnly=True);
odb.rootAssembly.instances and .elementSets; instance.elementSets; odb.steps (ordered);
step.frames[-1]; frame.frameValue; frame.fieldOutputs['S'|'EVOL'|'U'|'RF'];
FieldOutput.getSubset(region=OdbSet[, position=CENTROID]); FieldValue.elementLabel, .nodeLabel,
.mises, .data (or .dataDouble when the ODB holds double precision: .data then raises);
odb.jobData.version; odb.analysisTitle (the *HEADING line, which carries model_hash=...); odb.close().
"""

from __future__ import print_function

import json
import re
import sys

FORMAT = "footdt-abaqus-results"
FORMAT_VERSION = 1


def _data(value):
    """Field data as a list of floats (single- or double-precision ODB)."""
    try:
        data = value.data
    except Exception:  # the ODB API raises on .data for double-precision output
        data = value.dataDouble
    if isinstance(data, (int, float)):
        return [float(data)]
    return [float(x) for x in data]


def _centroid(odb_access):
    """The CENTROID symbolic constant (abaqusConstants; odbAccess re-exports it)."""
    try:
        import abaqusConstants as constants
    except ImportError:
        constants = odb_access
    return constants.CENTROID


def _field(frame, name, step_name):
    if name not in frame.fieldOutputs.keys():
        raise SystemExit(
            "step %s has no %s field output: request it in the deck" % (step_name, name)
        )
    return frame.fieldOutputs[name]


def _part_results(frame, elset, step_name, centroid):
    stress = _field(frame, "S", step_name).getSubset(region=elset, position=centroid).values
    evol = _field(frame, "EVOL", step_name).getSubset(region=elset).values
    volume = dict((v.elementLabel, _data(v)[0]) for v in evol)
    labels, mises, tensors, volumes = [], [], [], []
    for v in stress:
        labels.append(int(v.elementLabel))
        mises.append(float(v.mises))
        tensors.append(_data(v)[:6])
        volumes.append(volume.get(v.elementLabel))
    if not labels or None in volumes:
        raise SystemExit("step %s: missing S or EVOL output for an element set" % step_name)
    return {"labels": labels, "mises": mises, "stress": tensors, "evol": volumes}


def _nodal(frame, name, step_name):
    values = _field(frame, name, step_name).values
    return dict((int(v.nodeLabel), _data(v)[:3]) for v in values)


def extract(odb_path, out_path, model_hash=None):
    """Read ``odb_path`` and write the footdt results JSON to ``out_path``."""
    import odbAccess  # provided by `abaqus python`

    centroid = _centroid(odbAccess)
    odb = odbAccess.openOdb(path=odb_path, readOnly=True)
    try:
        instances = list(odb.rootAssembly.instances.keys())
        if len(instances) != 1:
            raise SystemExit(
                "expected one part instance (a flat footdt deck), found %r" % instances
            )
        inst = odb.rootAssembly.instances[instances[0]]
        sets = dict((k, inst.elementSets[k]) for k in inst.elementSets.keys())
        for k in odb.rootAssembly.elementSets.keys():
            sets.setdefault(k, odb.rootAssembly.elementSets[k])
        parts = sorted(
            k for k in sets if not k.upper().startswith("FOOTDT_") and " " not in k.strip()
        )
        title = str(getattr(odb, "analysisTitle", "") or "")
        if model_hash is None:
            m = re.search(r"model_hash=([0-9a-f]+)", title)
            model_hash = m.group(1) if m else None
        steps = []
        for step_name in odb.steps.keys():
            frame = odb.steps[step_name].frames[-1]
            u, rf = _nodal(frame, "U", step_name), _nodal(frame, "RF", step_name)
            nodes = sorted(u)
            steps.append(
                {
                    "name": step_name,
                    "frame_value": float(frame.frameValue),
                    "parts": dict(
                        (p, _part_results(frame, sets[p], step_name, centroid)) for p in parts
                    ),
                    "nodes": {
                        "labels": nodes,
                        "u": [u[n] for n in nodes],
                        "rf": [rf.get(n, [0.0, 0.0, 0.0]) for n in nodes],
                    },
                }
            )
        result = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model_hash": model_hash,
            "odb": str(odb_path),
            "title": title,
            "abaqus_version": str(getattr(odb.jobData, "version", "unknown")),
            "units": {"length": "mm", "force": "N", "stress": "MPa", "volume": "mm^3"},
            "steps": steps,
        }
    finally:
        odb.close()
    with open(out_path, "w") as fh:
        json.dump(result, fh)
    return result


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write("usage: abaqus python abaqus_extract.py JOB.odb OUT.json [MODEL_HASH]\n")
        return 2
    extract(argv[1], argv[2], argv[3] if len(argv) == 4 else None)
    print("wrote %s" % argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
