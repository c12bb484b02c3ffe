# ruff: noqa: UP010, UP031, SIM118
# This script also runs under the Python 2.7 of older Abaqus releases (no f-strings), and ODB
# repositories are only documented to offer .keys(), so keys are listed explicitly.
"""Abaqus-Python script: element stresses, von Mises and volumes per step and part to JSON.

Run inside Abaqus (Python 2.7 in Abaqus <= 2023, Python 3 from 2024; only the standard library
and the Abaqus ODB API are used):

    abaqus python abaqus_extract.py JOB.odb OUT.json MODEL_HASH PART[,PART...]

(``run_abaqus.sh`` does this with the deck's hash and parts; ``-`` as MODEL_HASH takes it from the
*HEADING line.) For every step (= footdt phase) it reads the last frame and writes its frame value
and the step's time period (``footdt labels import`` refuses a step whose last frame did not reach
the end: a run that stopped mid-step), and, for each of the named parts (element sets: only these,
not the sets Abaqus adds, such as the warning sets of distorted elements), the element labels,
centroidal stress S (S11, S22, S33, S12, S13, S23 = xx, yy, zz, xy, xz, yz; MPa), Abaqus' von
Mises value and the element volume EVOL (mm^3); and, for every node, U (mm) and RF (N). ``footdt
labels import OUT.json`` reads the file (footdt.backends.abaqus.read_abaqus_json).

ODB API used (Abaqus Scripting Reference, odbAccess): openOdb(path=, readOnly=True);
odb.rootAssembly.instances and .elementSets; instance.elementSets; odb.steps (ordered);
step.frames[-1]; step.timePeriod; frame.frameValue; frame.fieldOutputs['S'|'EVOL'|'U'|'RF'];
FieldOutput.getSubset(region=OdbSet[, position=CENTROID]); FieldValue.elementLabel, .nodeLabel,
.mises, .data (or .dataDouble when the ODB holds double precision: .data then raises; a scalar
such as EVOL may come as a Python or a numpy float); odb.jobData.version; odb.analysisTitle (the
*HEADING line, which carries model_hash=...); odb.close().
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
    try:
        return [float(x) for x in data]
    except TypeError:  # a scalar: float, or numpy.float32 from numpy-backed ODB access
        return [float(data)]


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


def extract(odb_path, out_path, model_hash=None, parts=None):
    """Read ``odb_path`` and write the footdt results JSON to ``out_path``.

    ``parts``: the element sets to extract (footdt's parts); None = every element set whose name
    does not start with FOOTDT_ (for ODBs of hand-edited decks; Abaqus may add sets of its own).
    """
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
        if parts is None:
            names = sorted(
                k for k in sets if not k.upper().startswith("FOOTDT_") and " " not in k.strip()
            )
        else:
            by_upper = dict((k.upper(), k) for k in sets)
            missing = [p for p in parts if p.upper() not in by_upper]
            if missing:
                raise SystemExit(
                    "the ODB has no element set for part(s) %s: was it made from this deck?"
                    % ", ".join(missing)
                )
            names = [by_upper[p.upper()] for p in parts]
        title = str(getattr(odb, "analysisTitle", "") or "")
        if model_hash is None:
            m = re.search(r"model_hash=([0-9a-f]+)", title)
            model_hash = m.group(1) if m else None
        steps = []
        for step_name in odb.steps.keys():
            step = odb.steps[step_name]
            if not len(step.frames):
                raise SystemExit("step %s has no frames: the run stopped before it" % step_name)
            frame = step.frames[-1]
            u, rf = _nodal(frame, "U", step_name), _nodal(frame, "RF", step_name)
            nodes = sorted(u)
            period = getattr(step, "timePeriod", None)
            steps.append(
                {
                    "name": step_name,
                    "frame_value": float(frame.frameValue),
                    "time_period": None if period is None else float(period),
                    "parts": dict(
                        (p, _part_results(frame, sets[p], step_name, centroid)) for p in names
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


USAGE = "usage: abaqus python abaqus_extract.py JOB.odb OUT.json [MODEL_HASH|- [PART,PART...]]\n"


def main(argv):
    if len(argv) not in (3, 4, 5):
        sys.stderr.write(USAGE)
        return 2
    model_hash = argv[3] if len(argv) >= 4 and argv[3] != "-" else None
    parts = [p for p in argv[4].split(",") if p] if len(argv) == 5 else None
    extract(argv[1], argv[2], model_hash, parts)
    print("wrote %s" % argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
