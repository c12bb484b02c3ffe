"""OpenSim results as loads: a GRF ``.mot`` and an inverse-dynamics or static-optimisation ``.sto``.

Both are OpenSim **Storage** files: a header of ``key=value`` lines (``version``, ``nRows``,
``nColumns``, ``inDegrees``; older files ``datarows`` / ``datacolumns``) closed by a line
``endheader``, then one row of tab-separated column labels (``time`` first) and the data rows.
``read_storage`` reads them and checks the header's counts against the table.

- **GRF** (``.mot``, from the experimental data): per force plate ``<prefix>vx vy vz`` (N) and
  ``<prefix>px py pz`` (centre of pressure, m) in OpenSim's ground frame (x forward, y up, z to
  the right). The prefix names the foot: ``ground_force_r_``, ``r_ground_force_``,
  ``ground_force_`` (one plate) or any other given with ``prefix=``. footdt takes the stances
  (vertical force above 20 N) and, for the phase timing, ``fz = vy`` and ``fx = vx``.
- **Achilles force**, one of (detected from the columns, for the leg ``side``):
  - inverse dynamics (``*_InverseDynamics.sto`` / ``inverse_dynamics.sto``): the generalized force
    ``ankle_angle_r_moment`` (N m) of the ankle coordinate, dorsiflexion positive, so the
    plantarflexion moment is its negative; force = moment / Achilles moment arm;
  - static optimisation (``*_StaticOptimization_force.sto``): the triceps surae forces (N),
    ``soleus_r`` plus the gastrocnemii (``med_gas_r lat_gas_r`` in gait2392/2354,
    ``gasmed_r gaslat_r`` in Rajagopal 2016); their sum is the Achilles force.

Units are checked against what running gives (``check_units``): a moment of 0.5-20 N m/kg at
its peak, a triceps force of 0.5-15 BW; otherwise the message names the likely unit slip (N mm,
N m/kg, kN...). OpenSim's column names, sign of the ankle coordinate and units are those of its
Storage files and the gait2392 / Rajagopal models; a file from another model whose columns are
named otherwise is refused with the columns it has and an option to name them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from footdt.gait.recording import G, GaitDataError

if TYPE_CHECKING:
    import pandas as pd

GRF_PREFIXES = ("ground_force_{s}_", "{s}_ground_force_", "ground_force_")
TRICEPS = {
    "soleus": ("soleus_{s}", "soleus"),
    "gastrocnemius": ("med_gas_{s}", "lat_gas_{s}", "gasmed_{s}", "gaslat_{s}", "gastroc_{s}",
                      "med_gas", "lat_gas"),
}  # fmt: skip
ANKLE_MOMENT = ("ankle_angle_{s}_moment", "ankle_{s}_moment", "ankle_angle_moment")
#: Running peaks: plantarflexion moment per body mass (N m/kg), triceps force (BW).
MOMENT_NM_PER_KG = (0.5, 20.0)
FORCE_BW = (0.5, 15.0)


@dataclass(frozen=True)
class Storage:
    """A Storage file's table (``time`` first) and header."""

    path: str
    table: pd.DataFrame
    header: dict[str, str] = field(default_factory=dict)
    name: str = ""

    @property
    def time(self) -> np.ndarray:
        return self.table["time"].to_numpy(float)

    def column(self, name: str) -> np.ndarray:
        return self.table[name].to_numpy(float)


def read_storage(path: str | Path) -> Storage:
    """Read an OpenSim Storage file (.sto / .mot); one-line errors for anything else."""
    import pandas as pd

    from footdt.gait.io import check_readable, column_list, excerpt

    p = check_readable(path, "OpenSim file")
    header: dict[str, str] = {}
    name = ""
    end = None
    with p.open(encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            text = line.strip()
            if text.lower() == "endheader":
                end = n
                break
            if n >= 200:
                break
            key, sep, value = text.partition("=")
            words = text.split()
            if sep:
                header[key.strip()] = value.strip()
            elif len(words) == 2 and words[0] in ("datacolumns", "datarows"):
                header[words[0]] = words[1]
            elif text and not name:
                name = text
    if end is None:
        raise GaitDataError(
            f"{p}: not an OpenSim Storage file (no 'endheader' line in its first 200 lines); "
            "export the .sto/.mot from OpenSim, or pass a CSV"
        )
    try:
        table = pd.read_csv(p, sep=r"\s+", skiprows=end, dtype=float, engine="c")
    except (ValueError, pd.errors.ParserError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:120]
        raise GaitDataError(f"{p}: the table after 'endheader' is not numeric ({first})") from None
    except pd.errors.EmptyDataError:
        raise GaitDataError(f"{p}: no column labels after 'endheader'") from None
    table.columns = [str(c).strip() for c in table.columns]
    if not len(table.columns) or table.columns[0].lower() != "time":
        raise GaitDataError(f"{p}: the first column is {excerpt(table.columns[0] if len(table.columns) else '')}, "
                            "not 'time': not an OpenSim Storage table")  # fmt: skip
    table = table.rename(columns={table.columns[0]: "time"})
    for key in ("nRows", "datarows"):
        if key in header and header[key].isdigit() and int(header[key]) != len(table):
            raise GaitDataError(f"{p}: the header says {key}={header[key]} but the file has "
                                f"{len(table)} data rows: the file is truncated or edited")  # fmt: skip
    for key in ("nColumns", "datacolumns"):
        if key in header and header[key].isdigit() and int(header[key]) != len(table.columns):
            raise GaitDataError(f"{p}: the header says {key}={header[key]} but the table has "
                                f"{len(table.columns)} columns ({column_list(table.columns)})")  # fmt: skip
    if len(table) < 2:
        raise GaitDataError(f"{p}: fewer than 2 data rows")
    t = table["time"].to_numpy(float)
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise GaitDataError(f"{p}: time is not strictly increasing; export the whole trial again")
    return Storage(str(p), table, header, name)


def _side(side: str) -> str:
    s = side.strip().lower()[:1]
    if s not in ("r", "l"):
        raise GaitDataError(f"leg {side!r}: use right or left")
    return s


@dataclass(frozen=True)
class GrfMot:
    """Vertical and anterior GRF (N) of one foot from an OpenSim GRF file."""

    time: np.ndarray
    fx_n: np.ndarray
    fz_n: np.ndarray
    source: str
    prefix: str


def read_grf_mot(path: str | Path, side: str = "right", prefix: str | None = None) -> GrfMot:
    """The foot's force columns of an OpenSim GRF ``.mot`` (see the module docstring)."""
    from footdt.gait.io import column_list

    st = read_storage(path)
    cols = set(st.table.columns)
    s = _side(side)
    candidates = [prefix] if prefix else [f.format(s=s) for f in GRF_PREFIXES]
    found = next((c for c in candidates if {f"{c}vx", f"{c}vy"} <= cols), None)
    if found is None:
        want = " or ".join(f"{c}vx/{c}vy" for c in candidates)
        raise GaitDataError(f"{st.path}: no GRF columns {want} for the {side} foot; columns are "
                            f"{column_list(st.table.columns)}: pass --grf-prefix")  # fmt: skip
    fy = st.column(f"{found}vy")
    fx = st.column(f"{found}vx")
    if not (np.isfinite(fy).all() and np.isfinite(fx).all()):
        raise GaitDataError(f"{st.path}: NaN/inf in {found}vx or {found}vy")
    peak, low = float(fy.max()), float(fy.min())
    if peak < 50.0 and low < -200.0:
        raise GaitDataError(f"{st.path}: {found}vy is negative in stance (min {low:.0f}): the "
                            "plate's vertical axis points down; OpenSim's y is up: flip its sign")  # fmt: skip
    if peak < 50.0:
        raise GaitDataError(f"{st.path}: {found}vy peaks at {peak:.3g}: not a running GRF in N "
                            "(kN? normalised to body weight?); OpenSim GRF files hold N")  # fmt: skip
    return GrfMot(st.time, fx, fy, st.path, found)


@dataclass(frozen=True)
class AchillesSeries:
    """Achilles force (N) over time from OpenSim, with the plantarflexion moment (N m) where it
    is the source, and what it was read from (``method``)."""

    time: np.ndarray
    force_n: np.ndarray | None  # static optimisation: the triceps surae force
    moment_nm: np.ndarray | None  # inverse dynamics: plantarflexion moment (> 0 plantarflexing)
    source: str
    method: str
    columns: tuple[str, ...]


def read_achilles_sto(
    path: str | Path, side: str = "right", columns: Sequence[str] | None = None
) -> AchillesSeries:
    """An inverse-dynamics ankle moment or static-optimisation triceps surae forces for the leg
    ``side`` (detected from the columns; ``columns`` names them explicitly: one ``*_moment``
    column, or the muscle force columns to sum)."""
    from footdt.gait.io import column_list

    st = read_storage(path)
    cols = list(st.table.columns)
    s = _side(side)
    if columns:
        missing = [c for c in columns if c not in cols]
        if missing:
            raise GaitDataError(f"{st.path}: column(s) {', '.join(missing)} not found; columns are "
                                f"{column_list(cols)}")  # fmt: skip
        chosen = list(columns)
        is_moment = len(chosen) == 1 and chosen[0].endswith("_moment")
    else:
        moment = next((m.format(s=s) for m in ANKLE_MOMENT if m.format(s=s) in cols), None)
        muscles = [c for group in TRICEPS.values() for c in dict.fromkeys(
            m.format(s=s) for m in group) if c in cols]  # fmt: skip
        if moment is None and not muscles:
            raise GaitDataError(
                f"{st.path}: neither an ankle moment ({ANKLE_MOMENT[0].format(s=s)}) nor triceps "
                f"surae forces (soleus_{s}, med_gas_{s}/gasmed_{s}...) for the {side} leg; columns "
                f"are {column_list(cols)}: pass --achilles-columns"
            )
        is_moment = moment is not None and not muscles
        chosen = [moment] if is_moment else muscles  # type: ignore[list-item]
        if not is_moment and not any(c.startswith("soleus") for c in chosen):
            raise GaitDataError(f"{st.path}: gastrocnemius forces ({', '.join(chosen)}) without "
                                f"soleus_{s}: the Achilles force needs every triceps surae muscle; "
                                "pass --achilles-columns")  # fmt: skip
    values = np.stack([st.column(c) for c in chosen], axis=1)
    if not np.isfinite(values).all():
        raise GaitDataError(f"{st.path}: NaN/inf in {', '.join(chosen)}")
    if is_moment:
        # OpenSim's ankle coordinate is dorsiflexion-positive: its generalized force is
        # negative while the calf plantarflexes
        return AchillesSeries(st.time, None, -values[:, 0], st.path, "inverse dynamics (ankle moment)",
                              tuple(chosen))  # fmt: skip
    if values.min() < -1.0:
        c = chosen[int(np.argmin(values.min(axis=0)))]
        raise GaitDataError(f"{st.path}: {c} is negative ({values.min():.0f}): muscles only pull; "
                            "not static-optimisation muscle forces (N)?")  # fmt: skip
    return AchillesSeries(st.time, values.sum(axis=1), None, st.path,
                          "static optimisation (triceps surae forces)", tuple(chosen))  # fmt: skip


def check_units(series: AchillesSeries, body_mass_kg: float, stances: Sequence[Any]) -> None:
    """Refuse a moment or force whose stance peak is far from running's (see module doc)."""
    sel = np.zeros(len(series.time), bool)
    for s in stances:
        sel |= (series.time >= s.ic_s) & (series.time <= s.to_s)
    if not sel.any():
        t0, t1 = series.time[0], series.time[-1]
        spans = ", ".join(f"{s.ic_s:.2f}-{s.to_s:.2f}" for s in list(stances)[:3])
        raise GaitDataError(f"{series.source}: covers {t0:.2f}-{t1:.2f} s but the GRF stances are "
                            f"at {spans} s: not the same trial, or another time origin")  # fmt: skip
    if series.moment_nm is not None:
        peak = float(series.moment_nm[sel].max()) / body_mass_kg
        lo, hi = MOMENT_NM_PER_KG
        if lo <= peak <= hi:
            return
        hint = ("N mm? divide by 1000" if peak > hi * 100 else
                "already per kg of body mass? multiply by the body mass" if 0 < peak * body_mass_kg <= hi
                else "the sign of the ankle coordinate? OpenSim's is dorsiflexion-positive")  # fmt: skip
        raise GaitDataError(f"{series.source}: the stance plantarflexion moment peaks at "
                            f"{peak:.3g} N m/kg, running gives {lo:g}-{hi:g} N m/kg: {hint}")  # fmt: skip
    assert series.force_n is not None
    peak = float(series.force_n[sel].max()) / (body_mass_kg * G)
    lo, hi = FORCE_BW
    if not lo <= peak <= hi:
        hint = ("kN? multiply by 1000" if peak < lo / 100 else
                "normalised to body weight or per kg? give N" if peak < lo else "N mm or dyn?")  # fmt: skip
        raise GaitDataError(f"{series.source}: the triceps surae force peaks at {peak:.3g} BW in "
                            f"stance, running gives {lo:g}-{hi:g} BW: {hint}")  # fmt: skip
