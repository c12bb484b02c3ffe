"""Generate a synthetic cohort directory: per runner and trial a subject spec, IMU windows, plantar
pressure and GRF, plus ``manifest.json`` and ``generation.json``.

For each trial (``footdt.cohort.runners`` draws the runner and the trial,
``footdt.cohort.state`` its strides: one gait state per stride):

1. ``imu.simulate`` makes the whole recording (``strides_per_trial`` strides, foot + tibia, m/s^2,
   ``sensors.rate_hz``), every stride from its own state; ``gait.checks.analyse`` detects its
   strides as it would a real recording's, and ``gait.phases.make_windows`` cuts the
   (n_strides, 300, 6) windows.
2. The middle stride lands on a pressure plate (mid-gait protocol): ``pressure.csv`` (350 Hz,
   kPa per region, COP in mm from the heel) and ``grf.csv`` (1 kHz, N; ankle centre in mm,
   ankle angle in deg) hold that stance, from that stride's state, on the recording's time base.
   The regional pressures are region force / area of the regions the trial's FE model loads
   (``cohort.sole``), so pressure x FE area sums to the vertical GRF.
3. ``gait.loads.derive_loads`` reads those two files back, exactly as ``footdt loads derive``
   would, and gives the phase loads: mean regional pressure per phase and the Achilles force
   (OpenSim moment arm x the runner's hidden moment-arm factor, plus its hidden co-contraction;
   ``gait.achilles.RunnerAchilles``).
4. The template subject spec is copied with the runner's foot (length, width, arch), the hidden
   soft-tissue and fascia stiffness multipliers, and the trial's loads -> ``spec.yaml``.

Files are byte-identical for the same spec and seed (NPZ members carry a fixed timestamp; no
times or paths of the machine are written). ``generation.json`` records every drawn parameter:
per runner its mean gait (``traits``) and every hidden factor (``hidden``); per trial the plate
stride's gait state (``plate_state``), every recorded stride's state (``stride_states``) and
outcome (``strides``: GRF peaks, loading rate, peak foot and tibia |a|), the true and detected
events and the loads.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from footdt.cohort import manifest as mf
from footdt.cohort.imu import PEAK_WINDOW_S, SensorModel, simulate
from footdt.cohort.runners import (
    Runner,
    Trial,
    draw_runner,
    draw_trial,
    strike_classes,
    trial_strides,
)
from footdt.cohort.sole import Sole, fe_sole
from footdt.cohort.spec import CohortSpec
from footdt.cohort.stance import (
    StanceParams,
    ankle_deg,
    ankle_lever_mm,
    ap_grf_bw,
    cop_fraction,
    regional_pressure_mpa,
    vertical_grf_bw,
)
from footdt.domain import FOOT_SENSOR, SENSORS, TIBIA_SENSOR
from footdt.errors import FootdtError
from footdt.fileio import atomic_write
from footdt.gait.pressure import REGIONS
from footdt.gait.recording import G

DEFAULT_TEMPLATE = Path("specs/subjects/template.yaml")
PLATE_HZ = 350.0
GRF_HZ = 1000.0
Progress = Callable[[int, int, str], None]


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Compressed NPZ with fixed member timestamps, so equal arrays give equal bytes."""

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name, arr in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, buf.getvalue())

    return atomic_write(path, write)


def save_recording_csv(path: Path, data: np.ndarray, rate_hz: float) -> Path:
    """A whole IMU recording as a CSV like a sensor export: ``time_s``, then the six
    accelerations ``foot_ax .. tibia_az`` (m/s^2) as stored in ``imu.npz`` (float32), 6 decimals.
    ``footdt gait detect`` reads it with ``--sensors foot=foot_ax,foot_ay,foot_az
    tibia=tibia_ax,tibia_ay,tibia_az``; ``footdt predict`` by default."""
    values = np.asarray(data, dtype=np.float32).astype(float)
    table = np.column_stack([np.arange(len(values)) / rate_hz, values])
    header = ",".join(("time_s", *mf.WINDOW_CHANNELS))
    return atomic_write(path, lambda tmp: np.savetxt(tmp, table, delimiter=",", header=header,
                                                     comments="", fmt="%.6f"))  # fmt: skip


def _write_csv(path: Path, header: list[str], cols: list[np.ndarray], fmt: list[str]) -> None:
    """Comma-separated table (no comment lines: delimiter sniffing must see only data)."""
    lines = [",".join(header)]
    for row in zip(*cols, strict=True):
        lines.append(",".join("nan" if not np.isfinite(v) else f % v for f, v in zip(fmt, row, strict=True)))  # fmt: skip
    atomic_write(path, lambda tmp: tmp.write_text("\n".join(lines) + "\n"))


def grf_stats(p: StanceParams) -> dict[str, Any]:
    """Vertical GRF of one stance: active peak, impact peak (a local maximum before the active
    one, else None) in BW, when it occurs (s), and the mean loading rate (BW/s) from 20 % to
    80 % of the first peak (the impact peak, else the active peak)."""
    s = np.linspace(0.0, 1.0, 4001)
    fz = vertical_grf_bw(s, p)
    peaks = np.flatnonzero((fz[1:-1] > fz[:-2]) & (fz[1:-1] >= fz[2:])) + 1
    k = int(peaks[0]) if len(peaks) else int(np.argmax(fz))
    first = float(fz[k])
    impact = len(peaks) > 1 and first < fz.max() - 1e-9
    i20, i80 = np.argmax(fz >= 0.2 * first), np.argmax(fz >= 0.8 * first)
    return {"active_peak_bw": float(fz.max()), "impact_peak_bw": first if impact else None,
            "impact_time_s": float(s[k] * p.stance_s) if impact else None,
            "loading_rate_bw_s": float(0.6 * first / ((s[i80] - s[i20]) * p.stance_s))}  # fmt: skip


def _plate_files(d: Path, p: StanceParams, ic: float, geometry: Any, sole: Sole) -> dict[str, Any]:  # fmt: skip
    """Write pressure.csv and grf.csv for one stance from ``ic`` (s); return GRF statistics."""
    ts = p.stance_s
    to = ic + ts
    bw = p.body_weight_n
    t = np.arange(np.floor((ic - 0.05) * PLATE_HZ), np.ceil((to + 0.05) * PLATE_HZ) + 1) / PLATE_HZ
    s = (t - ic) / ts
    on = (s >= 0) & (s <= 1)
    reg = regional_pressure_mpa(np.where(on, s, -1.0), p, sole)
    cop = np.where(on, cop_fraction(np.clip(s, 0, 1), p) * p.foot_length_mm, np.nan)
    _write_csv(d / "pressure.csv", ["time_s", *REGIONS, "cop_x_mm"],
               [t, *[reg[r] * 1e3 for r in REGIONS], cop],
               ["%.5f"] + ["%.4f"] * len(REGIONS) + ["%.2f"])  # fmt: skip
    tg = np.arange(np.floor((ic - 0.05) * GRF_HZ), np.ceil((to + 0.05) * GRF_HZ) + 1) / GRF_HZ
    sg = (tg - ic) / ts
    ong = (sg >= 0) & (sg <= 1)
    sc = np.clip(sg, 0, 1)
    fz, fx = vertical_grf_bw(np.where(ong, sg, -1.0), p) * bw, ap_grf_bw(np.where(ong, sg, -1.0), p) * bw  # fmt: skip
    r = ankle_lever_mm(sc, p, geometry.ankle_mm)
    cop_g = cop_fraction(sc, p) * p.foot_length_mm
    nan = np.full_like(tg, np.nan)
    _write_csv(d / "grf.csv",
               ["time_s", "fx_n", "fy_n", "fz_n", "cop_x_mm", "ankle_x_mm", "ankle_z_mm", "ankle_deg"],
               [tg, fx, np.zeros_like(tg), fz,
                np.where(ong, cop_g, nan), np.where(ong, cop_g - r[:, 0], nan),
                np.where(ong, -r[:, 1], nan), np.where(ong, ankle_deg(sc, p), nan)],
               ["%.4f", "%.3f", "%.2f", "%.3f", "%.2f", "%.2f", "%.2f", "%.2f"])  # fmt: skip
    g = grf_stats(p)
    return {"grf_peak_bw": g["active_peak_bw"], "impact_peak_bw": g["impact_peak_bw"],
            "loading_rate_bw_s": g["loading_rate_bw_s"], "stance_s": ts}  # fmt: skip


def runner_geometry(runner: Runner, foot_model: str = "personalised") -> Any:
    """The runner's foot as a subject-spec geometry: measurements for the shape model, or the
    parametric template's three dimensions (mm, rounded to 0.01)."""
    from footdt.spec.geometry import FootTemplate, Personalised

    dims = {"foot_length": round(runner.foot_length_mm, 2),
            "foot_width": round(runner.foot_width_mm, 2),
            "arch_height": round(runner.arch_height_mm, 2)}  # fmt: skip
    if foot_model == "personalised":
        return Personalised(type="personalised", measurements=dims)
    return FootTemplate(type="foot_template", **dims)


def subject_spec(
    template: Any, runner: Runner, trial_id: str, loads: Any, foot_model: str = "personalised"
) -> Any:
    """The template with this runner's foot, hidden stiffness factors and the trial's loads."""
    from footdt.domain import SOFT_TISSUE
    from footdt.gait.loads import apply_loads

    sec = next((s for s in template.sections if s.part == SOFT_TISSUE), None)
    if sec is None:
        raise FootdtError(f"cohort template {template.id}: no section for part {SOFT_TISSUE!r}")
    mats = dict(template.materials)
    mat = mats[sec.material]
    mats[sec.material] = mat.model_copy(
        update={"E": round(mat.E * runner.hidden["tissue_stiffness"], 5)}
    )
    if any(s.material == sec.material and s.part != SOFT_TISSUE for s in template.sections):
        raise FootdtError(
            f"cohort template {template.id}: material {sec.material!r} is shared with other parts; "
            "give the soft tissue its own material"
        )
    k = runner.hidden["fascia_stiffness"]
    spec = template.model_copy(update={
        "id": runner.id, "trial": trial_id, "materials": mats,
        "description": f"synthetic runner {runner.id} ({runner.strike_class} strike), trial {trial_id}",
        "geometry": runner_geometry(runner, foot_model),
        "connectors": [c.model_copy(update={"stiffness": round(c.stiffness * k, 3)}) for c in template.connectors],
    })  # fmt: skip
    return apply_loads(spec, loads)


def load_template(path: Path, size: float | None = None) -> Any:
    """The template subject spec at ``path``, with ``mesh.size = size`` (mm) when given (per-part
    sizes scale with it: ``LoadedSpec.with_mesh``, as ``footdt demo --size`` and ``footdt mesh
    --size``)."""
    from footdt.cohort.spec import check_size
    from footdt.spec.loader import load_spec

    if not path.is_file():
        raise FootdtError(
            f"{path}: cohort template subject spec not found; pass --template or set `template:` "
            "in the cohort spec"
        )
    loaded = load_spec(path)
    spec = loaded.spec
    if spec.kind != "subject" or spec.geometry.type != "foot_template":
        raise FootdtError(f"{path}: the cohort template must be a subject spec with geometry type foot_template")  # fmt: skip
    if size is None:
        return spec
    check_size(size)
    return loaded.with_mesh(size).spec


def stance_params(runner: Runner, state: Any) -> StanceParams:
    """One stance of ``runner`` from a stride's gait state (with the runner's hidden factors)."""
    h = runner.hidden
    return StanceParams(state, runner.body_mass_kg, runner.foot_length_mm,
                        h["effective_mass_ratio"], h["load_midfoot"], h["load_toes"])  # fmt: skip


def stride_peaks_g(t: np.ndarray, data: np.ndarray, ics: np.ndarray) -> dict[str, np.ndarray]:
    """Peak |a| (g) of each sensor within ``imu.PEAK_WINDOW_S`` ([IC - 20 ms, IC + 150 ms]) of
    each true IC, the window of the reference PTA too."""
    lo, hi = PEAK_WINDOW_S
    out = {}
    for k, sensor in ((0, FOOT_SENSOR), (3, TIBIA_SENSOR)):
        mag = np.linalg.norm(data[:, k : k + 3], axis=1) / G
        out[sensor] = np.array([np.max(mag[(t >= c - lo) & (t <= c + hi)], initial=0.0) for c in ics])  # fmt: skip
    return out


def _trial(
    spec: CohortSpec, runner: Runner, trial: Trial, d: Path, template: Any, model: Any, sole: Sole
) -> tuple[dict[str, Any], tuple[int, ...]]:
    """Write one trial's files into ``d``; return its generation record and window shape."""
    import yaml

    from footdt.gait.achilles import RunnerAchilles
    from footdt.gait.checks import analyse
    from footdt.gait.loads import derive_loads, fragment, read_grf_csv
    from footdt.gait.phases import make_windows
    from footdt.gait.pressure import read_regional_csv
    from footdt.gait.recording import Recording

    rng = np.random.default_rng([*trial.seed, 7])
    sensor = SensorModel(**spec.sensors.model_dump(exclude={"misplacement_deg", "misplacement_mm"}))
    states = trial_strides(runner, trial, spec.strides_per_trial + 2)
    stances = [stance_params(runner, st) for st in states]
    h = runner.hidden
    sim = simulate(stances, runner.mounts, sensor, rng, tibia_roll_deg=h["tibia_roll_deg"],
                   tissue=(h["tissue_coupling_hz"], h["tissue_damping"]),
                   coupling=(h["impact_coupling_foot"], h["impact_coupling_tibia"]))  # fmt: skip
    t, data, ics, tos = sim.time, sim.data, sim.ic_s, sim.to_s
    rec = Recording(t, sensor.rate_hz, {FOOT_SENSOR: data[:, :3], TIBIA_SENSOR: data[:, 3:]},
                    source=f"{runner.id}/{trial.id} (synthetic)")  # fmt: skip
    events, issues = analyse(rec, strict=False)
    win = make_windows(rec, events)  # flagged strides are left out, as for a real recording
    recorded = stances[1:-1]  # one per true IC
    plate = len(ics) // 2
    stats = _plate_files(d, recorded[plate], float(ics[plate]), model.geometry, sole)
    pressure = read_regional_csv(d / "pressure.csv", {r: r for r in REGIONS}, units="kPa")
    ax, az = model.geometry.ankle_mm
    grf, notes = read_grf_csv(str(d / "grf.csv"), (float(ax), float(az)))
    achilles = RunnerAchilles(model, h["achilles_moment_arm"], h["cocontraction"])
    loads = derive_loads(pressure, grf, achilles, runner.body_mass_kg)
    sub = subject_spec(template, runner, trial.id, loads, spec.foot_model)
    header = f"# synthetic subject spec: footdt cohort {spec.id} (seed {spec.seed})\n"
    text = header + yaml.safe_dump(sub.model_dump(mode="json", exclude_none=True), sort_keys=False)
    atomic_write(d / "spec.yaml", lambda tmp: tmp.write_text(text))
    det = np.array([s.ic_s for s in events.strides])
    st_rec = [p.state for p in recorded]
    arrays = {
        "windows": win.data.astype(np.float32),
        "stance_time_s": np.array([s["stance_s"] for s in win.strides], float),
        "ic_s": np.array([s["ic_s"] for s in win.strides], float),
        "to_s": np.array([s["to_s"] for s in win.strides], float),
        "channels": np.array(mf.WINDOW_CHANNELS), "units": np.array("m/s^2"),
        "samples_per_phase": np.array(mf.SAMPLES_PER_PHASE),
        "recording": data.astype(np.float32), "recording_rate_hz": np.array(sensor.rate_hz),
        "true_ic_s": ics, "true_to_s": tos,
        "true_contact_s": np.array([s.contact_s for s in st_rec]),
        "true_step_s": np.array([s.step_s for s in st_rec]),
        "true_flight_s": np.array([s.flight_s for s in st_rec]),
    }  # fmt: skip
    save_npz(d / "imu.npz", arrays)
    save_recording_csv(d / "recording.csv", data, sensor.rate_hz)
    near = [float(np.min(np.abs(det - c))) for c in ics] if len(det) else [np.inf] * len(ics)
    peaks = stride_peaks_g(t, data, ics)
    # peak_*_g: from the cohort's own 100 Hz sensors; pta_ref_g: from the 1 kHz reference
    # tibial accelerometer (imu.Recording.pta_ref_g), PTA as the published studies measure it
    strides = [{"ic_s": float(c), **grf_stats(p), "peak_foot_g": float(peaks[FOOT_SENSOR][k]),
                "peak_tibia_g": float(peaks[TIBIA_SENSOR][k]), "pta_ref_g": float(sim.pta_ref_g[k])}
               for k, (c, p) in enumerate(zip(ics, recorded, strict=True))]  # fmt: skip
    ps = recorded[plate].state
    record = {
        "speed_m_s": ps.speed_m_s, "stride_s": ps.stride_s, "strike_index": ps.strike_index,
        **stats, "plate_stride": plate, "plate_state": ps.as_dict(),
        "stride_states": [s.as_dict() for s in st_rec], "strides": strides,
        "n_true_strides": len(ics), "n_detected": len(events.strides),
        "n_flagged": sum(1 for st in events.strides if st.flags),
        "n_matched_20ms": int(sum(e <= 0.02 for e in near)), "issues": sorted({i.code for i in issues}),
        "peak_g": {s: float(np.max(rec.resultant(s)) / G) for s in SENSORS},
        "loads": fragment(loads)["phases"],
        "achilles_bw": {p.phase: p.achilles.force_bw for p in loads.phases if p.achilles},
        "achilles_peak_bw": loads.meta.get("achilles_peak_bw"), "load_notes": notes,
    }  # fmt: skip
    return record, tuple(win.data.shape)


def generate(
    spec: CohortSpec,
    out: str | Path,
    template: str | Path | None = None,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    size: float | None = None,
) -> mf.Manifest:
    """Write the cohort of ``spec`` into ``out`` and return its manifest (see module docstring);
    ``size`` (mm) replaces the template's element size in every trial spec."""
    import dataclasses

    import footdt
    from footdt.gait.achilles import FootShankGeometry, achilles_model

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FootdtError(f"{out}: directory is not empty; choose another --out or pass --force")
    tpl = load_template(Path(template or spec.template or DEFAULT_TEMPLATE), size)
    classes = strike_classes(spec)
    subjects, records = [], []
    total, done = spec.n_runners * spec.trials, 0
    method = ""
    for i in range(spec.n_runners):
        runner = draw_runner(spec, i, classes[i])
        geometry = FootShankGeometry.for_subject(runner.foot_length_mm, runner.height_m)
        model = achilles_model(geometry)
        method = model.method
        sole = fe_sole(runner_geometry(runner, spec.foot_model), tpl.mesh)
        trials, rec_trials = [], {}
        for k in range(spec.trials):
            trial = draw_trial(spec, runner, k)
            rel = Path(runner.id) / trial.id
            (out / rel).mkdir(parents=True, exist_ok=True)
            record, shape = _trial(spec, runner, trial, out / rel, tpl, model, sole)
            rec_trials[trial.id] = {**record, "window_shape": list(shape)}
            trials.append(mf.Trial(id=trial.id, imu=str(rel / "imu.npz"), spec=str(rel / "spec.yaml"),
                                   pressure=str(rel / "pressure.csv"), speed_m_s=round(record["speed_m_s"], 4)))  # fmt: skip
            done += 1
            if progress is not None:
                progress(done, total, f"{runner.id} {trial.id}")
        subjects.append(mf.Subject(id=runner.id, group=runner.group,
                                   body_mass_kg=round(runner.body_mass_kg, 3), height_m=round(runner.height_m, 4),
                                   foot_length_mm=round(runner.foot_length_mm, 2), trials=trials))  # fmt: skip
        traits = {k: v for k, v in dataclasses.asdict(runner.gait).items() if k != "cv"}
        records.append({"id": runner.id, "group": runner.group, "strike_class": runner.strike_class,
                        "body_mass_kg": runner.body_mass_kg, "height_m": runner.height_m,
                        "foot_length_mm": runner.foot_length_mm, "foot_width_mm": runner.foot_width_mm,
                        "arch_height_mm": runner.arch_height_mm, "preferred_speed_m_s": runner.speed_m_s,
                        "hidden": runner.hidden, "traits": traits,
                        "fe_region_areas_mm2": sole.region_areas_mm2(), "fe_sole": sole.source,
                        "trials": rec_trials})  # fmt: skip
    manifest = mf.Manifest(seed=spec.seed, description=spec.description or f"synthetic cohort {spec.id}",
                           subjects=subjects)  # fmt: skip
    mf.save_manifest(manifest, out)
    gen = {"format": "footdt-cohort-generation", "version": 2, "footdt": footdt.__version__,
           "cohort_spec": spec.model_dump(mode="json", exclude={"template"}),
           "template_id": tpl.id, "mesh_size_mm": tpl.mesh.size, "achilles_method": method, "subjects": records}  # fmt: skip
    text = json.dumps(gen, indent=1, default=_json_default)
    atomic_write(out / "generation.json", lambda tmp: tmp.write_text(text + "\n"))
    return manifest


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o).__name__)
