"""Label exports that read back with the types they had: CSV and Parquet, long or wide.

A **long** export has one row per label (``LABEL_FIELDS``); a **wide** one has one row per
(subject, trial, backend) with a column per label ``phase.bone.stat`` (MPa) after the provenance
columns ``WIDE_KEYS``. Types (``EXPORT_TYPES``): identifiers, hashes and versions are text (trial
``"01"`` stays ``"01"``, backend version ``"2.20"`` stays ``"2.20"``), values and times are
floats, ``max_on_boundary`` a boolean, ``created_at`` a UTC timestamp.

Parquet stores those types itself. CSV cannot, so each CSV gets a Table Schema
(https://specs.frictionlessdata.io/table-schema/) beside it, ``NAME.csv.schema.json``, and
``read_export`` reads either format back with the types above (for pandas users: it is
``pd.read_csv(path, dtype=..., keep_default_na=False, na_values=[""])`` with the schema's types).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from footdt.domain import PHASES, STATS
from footdt.errors import StoreError
from footdt.labels.reduce import LABEL_FIELDS

if TYPE_CHECKING:
    import pandas as pd

#: Table Schema type of every long-export column.
EXPORT_TYPES: dict[str, str] = {
    **dict.fromkeys(LABEL_FIELDS, "string"),
    "value_mpa": "number",
    "wall_time_s": "number",
    "residual": "number",
    "max_on_boundary": "boolean",
    "created_at": "datetime",
}
#: Provenance columns of the wide export (one row per subject, trial and backend).
WIDE_KEYS: tuple[str, ...] = ("subject", "trial", "backend", "backend_version", "solve_id",
                              "model_hash", "wall_time_s", "created_at")  # fmt: skip
_UNITS = {"value_mpa": "MPa", "wall_time_s": "s", "residual": "1"}


def typed(df: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """``df`` with pandas dtypes for Table Schema ``types`` (string, number, boolean, datetime)."""
    import pandas as pd

    out = df.copy()
    for col, t in types.items():
        if col not in out.columns:
            continue
        if t == "string":
            out[col] = out[col].astype("string")
        elif t == "number":
            out[col] = pd.to_numeric(out[col], errors="raise").astype("float64")
        elif t == "boolean":
            out[col] = out[col].map(_bool).astype("bool")
        elif t == "datetime":
            out[col] = pd.to_datetime(out[col], utc=True, format="ISO8601")
    return out


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    return bool(v)


def wide_frame(long: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """One row per (subject, trial, backend): ``WIDE_KEYS`` then ``phase.bone.stat`` columns
    (MPa) in phase, bone, statistic order. Returns the frame and its column types."""
    import pandas as pd

    if long.empty:
        return pd.DataFrame(columns=list(WIDE_KEYS)), {k: EXPORT_TYPES[k] for k in WIDE_KEYS}
    df = long.copy()
    df["label"] = df["phase"] + "." + df["bone"] + "." + df["stat"]
    keys = ["subject", "trial", "backend"]
    values = df.pivot_table(index=keys, columns="label", values="value_mpa", aggfunc="first")
    prov = df.sort_values("created_at").groupby(keys, sort=True).agg(
        backend_version=("backend_version", "last"), solve_id=("solve_id", "last"),
        model_hash=("model_hash", "last"), wall_time_s=("wall_time_s", "max"),
        created_at=("created_at", "last"),
    )  # fmt: skip
    phase_rank = {p: i for i, p in enumerate(PHASES)}
    stat_rank = {s: i for i, s in enumerate(STATS)}

    def order(label: str) -> tuple[int, str, int, str]:
        phase, bone, stat = label.split(".", 2)
        return (phase_rank.get(phase, 99), bone, stat_rank.get(stat, 99), label)

    labels = sorted(values.columns, key=order)
    wide = prov.join(values[labels]).reset_index()[[*WIDE_KEYS, *labels]]
    types = {**{k: EXPORT_TYPES[k] for k in WIDE_KEYS}, **dict.fromkeys(labels, "number")}
    return wide, types


def table_schema(types: dict[str, str], wide: bool) -> dict[str, Any]:
    fields = []
    for name, t in types.items():
        f: dict[str, Any] = {"name": name, "type": t}
        if t == "datetime":
            f["format"] = "any"
        unit = "MPa" if (wide and name not in WIDE_KEYS) else _UNITS.get(name)
        if unit:
            f["description"] = f"unit: {unit}"
        fields.append(f)
    key = ["subject", "trial", "backend"] + ([] if wide else ["phase", "bone", "stat"])
    return {"fields": fields, "primaryKey": key, "missingValues": [""]}


def write_export(df: pd.DataFrame, path: str | os.PathLike[str], *, wide: bool = False) -> int:
    """Write label rows (a ``LabelStore.to_dataframe`` frame) to ``.csv`` (plus its Table
    Schema) or ``.parquet``, typed, atomically; returns the row count of the file."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise StoreError(f"{out}: export format must be .csv or .parquet, not {suffix or 'none'!r}")
    frame, types = wide_frame(df) if wide else (df, dict(EXPORT_TYPES))
    frame = typed(frame, types)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            schema = out.with_name(out.name + ".schema.json")
            _atomic(schema, lambda tmp: tmp.write_text(
                json.dumps(table_schema(types, wide), indent=1) + "\n"))  # fmt: skip
            csv = frame.copy()
            for col, t in types.items():
                if t == "datetime":
                    csv[col] = csv[col].map(lambda ts: ts.isoformat() if ts is not None else "")
            _atomic(out, lambda tmp: csv.to_csv(tmp, index=False))
        else:
            _atomic(out, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))
    except OSError as exc:
        raise StoreError(
            f"{out}: cannot write the export ({exc.strerror or exc}); check the path and free space"
        ) from None
    return len(frame)


def _atomic(path: Path, write: Any) -> None:
    """Atomic write with the user's umask (``footdt.fileio.atomic_write``)."""
    from footdt.fileio import atomic_write

    atomic_write(path, write)


def read_export(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a long or wide export back with its types (CSV: from its Table Schema, or the
    long export's types when the schema is missing)."""
    import pandas as pd

    p = Path(path)
    if p.suffix.lower() == ".parquet":
        return pd.read_parquet(p)
    schema = p.with_name(p.name + ".schema.json")
    if schema.is_file():
        types = {f["name"]: f["type"] for f in json.loads(schema.read_text())["fields"]}
    else:
        types = dict(EXPORT_TYPES)
    df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    for col, t in types.items():
        if t == "string" and col in df.columns:
            df[col] = df[col].fillna("")
    return typed(df, types)
