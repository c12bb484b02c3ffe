"""Read accelerometer recordings: CSV/TSV tables with declared columns, and C3D through ezc3d.

A sensor is declared as ``name=colx,coly,colz``: the three source columns that hold its x, y, z
axes in the segment frame (x anterior, y left, z superior). A leading ``-`` flips an axis
(``foot=ax,-az,ay`` reads a sensor mounted with its z axis pointing left). Units are declared
(``g`` or ``m/s^2``) and converted to m/s^2. Time comes from a time column (seconds, or ``ms``)
or from a declared rate; when both exist they must agree within 2 %.

Bad samples are never silently filled: NaNs, missing time stamps and rows of exact zeros (an
accelerometer always feels gravity) are gaps; frozen samples (all three axes repeat exactly)
are reported. Gaps up to ``max_gap_s`` are linearly interpolated and reported as ``gap_interpolated``
issues with their time; longer ones raise ``GaitDataError`` naming the column and the time. Flat
tops at the sensor range are reported as ``clipped`` issues (checks.find_clipping) before any
resampling, which would hide them. A left-leg recording is mirrored into the right-foot frame
(y -> -y).
"""

from __future__ import annotations

import contextlib
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from footdt.gait.checks import find_clipping, find_dropouts
from footdt.gait.recording import UNIT_FACTORS, G, GaitDataError, Issue, Recording, Side

if TYPE_CHECKING:
    import pandas as pd

#: Largest |specific force| a body-worn accelerometer can report (g); beyond is a corrupt cell.
MAX_ACC_G = 200.0
TIME_NAMES = ("time", "t", "timestamp", "time_s", "time (s)", "seconds", "sec", "time[s]")


@dataclass(frozen=True)
class SensorColumns:
    """Source columns (x, y, z) of one sensor and the sign applied to each (+1 or -1)."""

    sensor: str
    columns: tuple[str, str, str]
    signs: tuple[float, float, float] = (1.0, 1.0, 1.0)


def parse_sensor(text: str) -> SensorColumns:
    """Parse ``name=colx,coly,colz`` (a leading ``-`` on a column flips that axis)."""
    name, sep, cols = text.partition("=")
    parts = [c.strip() for c in cols.split(",")]
    if not sep or not name.strip() or len(parts) != 3 or not all(p.lstrip("-") for p in parts):
        raise GaitDataError(f"sensor declaration {text!r}: expected name=colx,coly,colz")
    signs = tuple(-1.0 if p.startswith("-") else 1.0 for p in parts)
    columns = tuple(p[1:] if p.startswith("-") else p for p in parts)
    return SensorColumns(name.strip(), columns, signs)  # type: ignore[arg-type]


SensorsArg = Sequence[SensorColumns | str] | Mapping[str, Sequence[str]]


def _as_sensors(sensors: SensorsArg) -> list[SensorColumns]:
    if isinstance(sensors, Mapping):
        return [parse_sensor(f"{k}={','.join(v)}") for k, v in sensors.items()]
    return [s if isinstance(s, SensorColumns) else parse_sensor(s) for s in sensors]


def _tokens(s: SensorColumns) -> tuple[str, str, str]:
    """Declared column tokens, ``-`` marking a flipped axis."""
    t = tuple(("-" if sg < 0 else "") + c for c, sg in zip(s.columns, s.signs, strict=True))
    return t  # type: ignore[return-value]


def unit_factor(units: str) -> float:
    """Factor from ``units`` (g or m/s^2) to m/s^2."""
    key = units.strip().lower().replace(" ", "")
    if key not in UNIT_FACTORS:
        raise GaitDataError(f"unknown acceleration units {units!r}: use 'g' or 'm/s^2'")
    return UNIT_FACTORS[key]


#: Cells that mean "no sample" in exports (read as NaN: a gap, interpolated or refused as any).
MISSING_MARKERS = frozenset({"", "-", "--", "---", "na", "n/a", "nan", "null", "none", "#n/a", "?"})
_DELIMITERS = ("\t", ";", ",", "|")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")
#: Longest excerpt of a user's cell or line quoted in a message (characters).
EXCERPT = 40


def excerpt(text: object, n: int = EXCERPT) -> str:
    """``repr`` of a user's text, cut to about ``n`` characters (messages stay one short line)."""
    s = str(text)
    return repr(s if len(s) <= n else s[: n - 3] + "...")


def check_readable(path: str | Path, what: str = "recording") -> Path:
    """``path`` as a Path if it is a regular, readable, non-empty text file; otherwise a one-line
    GaitDataError that says what it is instead (missing, a directory, a device or pipe, binary)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise GaitDataError(f"{p}: no such file") from None
    except OSError as exc:
        raise GaitDataError(f"{p}: cannot read the {what} ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise GaitDataError(f"{p} is a directory, not a {what}: pass a CSV/TSV file inside it")
    if not stat.S_ISREG(st.st_mode):
        raise GaitDataError(
            f"{p} is not a regular file (a device, pipe or socket): pass a CSV/TSV {what} file"
        )
    if st.st_size == 0:
        raise GaitDataError(f"{p}: the file is empty; pass the exported {what}")
    try:
        with p.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise GaitDataError(f"{p}: cannot read the {what} ({exc.strerror or exc})") from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise GaitDataError(
            f"{p}: not a text table (binary, or UTF-16 text): export the {what} as a UTF-8 CSV"
        )
    return p


def _sample_lines(path: Path, n: int = 30) -> list[str]:
    out = []
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if line.strip() and not line.lstrip().startswith("#"):
                out.append(line.rstrip("\r\n"))
                if len(out) >= n:
                    break
    return out


def sniff_delimiter(path: Path) -> str:
    """The delimiter of a text table: tab, semicolon, comma, pipe or whitespace.

    The header row decides (it holds no decimal commas): the delimiter that splits it into the
    most fields, in as many fields as most data rows have. A German spreadsheet export
    (``;`` between fields, ``,`` as the decimal mark) is read as ``;``."""
    lines = _sample_lines(path)
    if not lines:
        raise GaitDataError(f"{path}: no header row; pass a table with column names")
    header, rows = lines[0], lines[1:] or lines[:1]
    best, best_n = None, 0
    for d in _DELIMITERS:
        n = header.count(d)
        if n == 0:
            continue
        agree = sum(r.count(d) == n for r in rows)
        if agree * 2 >= len(rows) and n > best_n:
            best, best_n = d, n
    if best is not None:
        return best
    if len(header.split()) > 1 and all(len(r.split()) == len(header.split()) for r in rows[:5]):
        return " "
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    raise GaitDataError(f"{path}: cannot tell the delimiter; pass --delimiter")


def _decimal_mark(path: Path, sep: str) -> str:
    """``,`` when the data rows write numbers with a decimal comma (``;``/tab separated)."""
    if sep == ",":
        return "."
    rows = _sample_lines(path)[1:]
    cells = [c.strip() for r in rows for c in (r.split() if sep == " " else r.split(sep))]
    commas = sum(bool(_DECIMAL_COMMA.match(c)) for c in cells)
    return "," if cells and commas * 2 >= len(cells) else "."


def read_table(path: str | Path, delimiter: str | None = None) -> pd.DataFrame:
    """Read a delimited text table (header row, ``#`` comments) into a pandas DataFrame: columns
    of numbers as floats, others as text (``numeric_column`` converts those, or says where). The decimal mark (``.`` or ``,``) is sniffed.
    Every failure is a one-line GaitDataError naming the file and the line."""
    import pandas as pd

    p = check_readable(path)
    sep = delimiter or sniff_delimiter(p)
    decimal = _decimal_mark(p, sep)
    try:
        df = pd.read_csv(
            p, sep=r"\s+" if sep == " " else sep, comment="#", skipinitialspace=True, dtype=str,
            keep_default_na=False, skip_blank_lines=True, encoding="utf-8-sig",
        )  # fmt: skip
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            want, line, saw = m.groups()
            raise GaitDataError(
                f"{p}: line {line} has {saw} fields but the header has {want} (delimiter "
                f"{sep!r}): fix or delete that line, or pass --delimiter"
            ) from None
        first = (str(exc).strip().splitlines() or [""])[0][:120]
        raise GaitDataError(f"{p}: cannot parse the table ({first}); pass --delimiter") from None
    except pd.errors.EmptyDataError:
        raise GaitDataError(f"{p}: no header row; pass a table with column names") from None
    except UnicodeDecodeError as exc:
        raise GaitDataError(
            f"{p}: not UTF-8 text (byte {exc.start}); save the table as UTF-8 CSV"
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    for c in df.columns:  # columns that are all numbers become floats; the rest stay text
        text = df[c].astype(str).str.strip()
        if decimal == ",":
            text = text.str.replace(",", ".", regex=False)
        with contextlib.suppress(ValueError, TypeError):
            df[c] = pd.to_numeric(text, errors="raise").astype(float)
    df.attrs["decimal"] = decimal
    df.attrs["path"] = str(p)
    return df


def numeric_column(df: pd.DataFrame, name: str, path: str | Path | None = None) -> np.ndarray:
    """Column ``name`` of a ``read_table`` frame as floats. Empty cells and missing markers
    (``--``, ``NA``, ``nan``...) become NaN; any other text is refused with its line."""
    import pandas as pd

    src = path or df.attrs.get("path", "<table>")
    raw = df[name]
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return raw.to_numpy(float)
    text = raw.astype(str).str.strip()
    if df.attrs.get("decimal") == ",":
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(float)
    bad = np.isnan(values) & ~text.str.lower().isin(MISSING_MARKERS).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise GaitDataError(
            f"{src}: column {excerpt(name)} holds {excerpt(raw.iloc[i])} on data row {i + 1}, "
            "not a number: fix the cell (empty or -- marks a missing sample)"
        )
    return values


def drop_footer(df: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Drop trailing rows that hold no number in any of ``columns`` but text in the first
    column (an export's footer such as ``END OF DATA``); returns the frame and the dropped
    lines' first cells."""
    if df.empty or not len(df.columns):
        return df, []
    first = df.iloc[:, 0].astype(str).str.strip()
    dropped: list[str] = []
    end = len(df)
    while end > 0:
        row = df.iloc[end - 1]
        cells = [str(row[c]).strip() for c in columns if c in df.columns]
        numeric = any(_is_number(c) for c in cells)
        if numeric or not first.iloc[end - 1] or _is_number(first.iloc[end - 1]):
            break
        dropped.append(first.iloc[end - 1])
        end -= 1
    return df.iloc[:end], dropped[::-1]


def _is_number(cell: str) -> bool:
    try:
        return not np.isnan(float(cell.replace(",", ".")))
    except ValueError:
        return False


def _find_time_column(names: Sequence[str]) -> str | None:
    lower = {n.lower(): n for n in names}
    return next((lower[t] for t in TIME_NAMES if t in lower), None)


def read_imu_table(
    path: str | Path,
    sensors: SensorsArg,
    *,
    rate_hz: float | None = None,
    units: str = "m/s^2",
    side: Side = "right",
    time_column: str | None = "auto",
    time_unit: str = "s",
    target_rate_hz: float | None = None,
    delimiter: str | None = None,
    max_gap_s: float = 0.05,
) -> Recording:
    """Read a CSV/TSV recording. ``time_column="auto"`` looks for time/t/timestamp; ``None``
    uses ``rate_hz`` only. Returns a uniformly sampled ``Recording`` (resampled to
    ``target_rate_hz`` when given)."""
    decl = _as_sensors(sensors)
    df = read_table(path, delimiter)
    missing = [c for s in decl for c in s.columns if c not in df.columns]
    if missing:
        raise GaitDataError(f"{path}: column(s) {', '.join(excerpt(c)[1:-1] for c in missing)} not "
                            f"found; columns are {column_list(df.columns)}")  # fmt: skip
    tcol = _find_time_column(list(df.columns)) if time_column == "auto" else time_column
    if tcol is not None and tcol not in df.columns:
        raise GaitDataError(f"{path}: time column {excerpt(tcol)} not found; columns are "
                            f"{column_list(df.columns)}")  # fmt: skip
    used = [*([tcol] if tcol else []), *(c for s in decl for c in s.columns)]
    df, footer = drop_footer(df, used)
    issues = []
    if footer:
        issues.append(Issue("footer", f"{path}: skipped {len(footer)} trailing line(s) without "
                            f"numbers ({excerpt(footer[0])})", "warning"))  # fmt: skip
    if len(df) < 2:
        raise GaitDataError(f"{path}: fewer than 2 data rows; pass the whole recording")
    time = None
    if tcol is not None:
        time = numeric_column(df, tcol, path) * {"s": 1.0, "ms": 1e-3}[time_unit]
    data = {c: numeric_column(df, c, path) for s in decl for c in s.columns}
    return build_recording(
        str(path), data, decl, time=time, time_column=tcol, rate_hz=rate_hz, units=units,
        side=side, target_rate_hz=target_rate_hz, max_gap_s=max_gap_s, issues=issues,
    )  # fmt: skip


def column_list(columns: Sequence[str], n: int = 12) -> str:
    """The first ``n`` column names for a message (each cut short), and how many more."""
    names = [excerpt(c, 24)[1:-1] for c in list(columns)[:n]]
    more = len(columns) - n
    return ", ".join(names) + (f" (and {more} more)" if more > 0 else "")


def read_imu_c3d(
    path: str | Path,
    sensors: SensorsArg,
    *,
    units: str = "m/s^2",
    side: Side = "right",
    rate_hz: float | None = None,
    target_rate_hz: float | None = None,
    max_gap_s: float = 0.05,
) -> Recording:
    """Read accelerometer channels (by analog label) from a C3D file with ezc3d. The analog
    rate comes from the file; a declared ``rate_hz`` must agree with it within 2 %."""
    try:
        import ezc3d
    except ImportError:
        raise GaitDataError(
            f"{path}: reading C3D needs ezc3d: pip install ezc3d "
            "(or conda install -c conda-forge ezc3d), or export the channels to CSV"
        ) from None
    c3d = ezc3d.c3d(str(path))
    analog = c3d["parameters"]["ANALOG"]
    labels = [str(x).strip() for x in analog["LABELS"]["value"]]
    rate = float(np.ravel(analog["RATE"]["value"])[0])
    if rate_hz is not None and abs(rate / rate_hz - 1.0) > 0.02:
        raise GaitDataError(
            f"{path}: declared rate {rate_hz:g} Hz but the C3D analog rate is {rate:g} Hz"
        )
    values = np.asarray(c3d["data"]["analogs"], dtype=float)[0]  # (channels, samples)
    decl = _as_sensors(sensors)
    missing = [c for s in decl for c in s.columns if c not in labels]
    if missing:
        raise GaitDataError(
            f"{path}: analog channel(s) {', '.join(missing)} not found; "
            f"channels are {', '.join(labels)}"
        )
    data = {c: values[labels.index(c)] for s in decl for c in s.columns}
    return build_recording(
        str(path), data, decl, time=None, time_column=None, rate_hz=rate, units=units,
        side=side, target_rate_hz=target_rate_hz, max_gap_s=max_gap_s,
    )  # fmt: skip


def read_recording(path: str | Path, sensors: SensorsArg, **kwargs: Any) -> Recording:
    """Dispatch on the suffix: ``.c3d`` -> ``read_imu_c3d``, anything else -> ``read_imu_table``."""
    if Path(path).suffix.lower() == ".c3d":
        keep = {"units", "side", "rate_hz", "target_rate_hz", "max_gap_s"}
        return read_imu_c3d(path, sensors, **{k: v for k, v in kwargs.items() if k in keep})
    return read_imu_table(path, sensors, **kwargs)


def _rate_from_time(src: str, time: np.ndarray, tname: str, declared: float | None) -> float:
    """The sampling rate (Hz) of a time base; refuses one that disagrees with ``declared``."""
    dt = np.diff(time)
    if not np.all(np.isfinite(time)) or np.any(dt <= 0):
        bad = int(np.argmax(~np.isfinite(time[1:]) | ~(dt > 0)))
        raise GaitDataError(
            f"{src}: {tname} is not strictly increasing at data row {bad + 2} "
            f"(t={time[bad + 1]:.6g} after {time[bad]:.6g}); sort the file or drop duplicated rows"
        )
    step = float(np.median(dt))
    inferred = 1.0 / step
    if declared is not None and abs(inferred / declared - 1.0) > 0.02:
        hint = ""
        if abs(inferred * 1e3 / declared - 1.0) < 0.02:
            hint = " (it looks like milliseconds: --time-unit ms)"
        raise GaitDataError(
            f"{src}: declared rate {declared:g} Hz but {tname} steps by {step:.6g} s "
            f"({inferred:.4g} Hz){hint}; fix --rate or the time column"
        )
    return declared if declared is not None else inferred


def build_recording(
    src: str,
    data: Mapping[str, np.ndarray],
    decl: Sequence[SensorColumns],
    *,
    time: np.ndarray | None,
    time_column: str | None,
    rate_hz: float | None,
    units: str,
    side: Side,
    target_rate_hz: float | None,
    max_gap_s: float,
    issues: Sequence[Issue] = (),
) -> Recording:
    """Columns -> checked, gap-filled, uniformly sampled, mirrored ``Recording`` (``issues``:
    what reading the file found, kept with the recording's own)."""
    factor = unit_factor(units)
    n = len(next(iter(data.values())))
    if time is None:
        if rate_hz is None:
            raise GaitDataError(f"{src}: no time column found ({', '.join(TIME_NAMES[:3])}); "
                                "declare the sampling rate (--rate)")  # fmt: skip
        time = np.arange(n) / rate_hz
        tname = "sample index"
    else:
        tname = f"time column {time_column!r}"
    rate = _rate_from_time(src, time, tname, rate_hz)
    issues = list(issues)
    raw: dict[str, np.ndarray] = {}
    for s in decl:
        arr = np.stack([data[c] * sg * factor for c, sg in zip(s.columns, s.signs, strict=True)], 1)
        _check_range(src, arr, time, s, units)
        issues += find_clipping(arr, time, s.sensor, s.columns, source=src)
        arr, found = find_dropouts(arr, time, s.sensor, s.columns, source=src)
        issues += found
        raw[s.sensor] = arr
    grid, acc, gap_issues = _to_grid(src, time, raw, decl, rate, max_gap_s, tname)
    if side == "left":
        for a in acc.values():
            a[:, 1] *= -1.0
    rec = Recording(
        time=grid, rate_hz=rate, acc=acc, side=side, source=src,
        columns={s.sensor: _tokens(s) for s in decl}, source_units=units,
        mirrored=side == "left", issues=(*issues, *gap_issues),
    )  # fmt: skip
    return resample(rec, target_rate_hz) if target_rate_hz else rec


def _check_range(src: str, arr: np.ndarray, time: np.ndarray, s: SensorColumns, units: str) -> None:
    """Refuse a finite sample beyond any accelerometer's range (``MAX_ACC_G``): a corrupt
    cell or a wrong unit, never running data."""
    with np.errstate(invalid="ignore"):
        over = np.isfinite(arr) & (np.abs(arr) > MAX_ACC_G * G)
    if over.any():
        i, k = np.argwhere(over)[0]
        raise GaitDataError(
            f"{src}: column {excerpt(s.columns[k])} reads {arr[i, k] / G:.3g} g at t={time[i]:.3f} s "
            f"(declared {units}), beyond any accelerometer's range ({MAX_ACC_G:g} g): fix or blank "
            "that cell, or check --units"
        )


def _to_grid(
    src: str,
    time: np.ndarray,
    raw: dict[str, np.ndarray],
    decl: Sequence[SensorColumns],
    rate: float,
    max_gap_s: float,
    tname: str,
) -> tuple[np.ndarray, dict[str, np.ndarray], list[Issue]]:
    """Interpolate valid samples onto ``t0 + k / rate``; report or refuse the gaps."""
    valid_all = np.all([np.all(np.isfinite(a), axis=1) for a in raw.values()], axis=0)
    if valid_all.sum() < 2:
        raise GaitDataError(f"{src}: no valid samples (every row has a NaN or a dropout)")
    first, last = np.flatnonzero(valid_all)[[0, -1]]
    issues: list[Issue] = []
    if first > 0 or last < len(time) - 1:
        issues.append(Issue("trimmed", f"{src}: kept {time[first]:.3f}-{time[last]:.3f} s; "
                            "leading/trailing samples had NaNs or dropouts", "warning",
                            t_start_s=float(time[first]), t_end_s=float(time[last])))  # fmt: skip
    t0, t1 = time[first], time[last]
    grid = t0 + np.arange(int(np.floor((t1 - t0) * rate + 1e-6)) + 1) / rate
    acc = {}
    for s in decl:
        arr = raw[s.sensor]
        out = np.empty((len(grid), 3))
        for k in range(3):
            ok = np.isfinite(arr[:, k]) & (time >= t0) & (time <= t1)
            tv = time[ok]
            out[:, k] = np.interp(grid, tv, arr[ok, k])
            for j in np.flatnonzero(np.diff(tv) > 1.5 / rate):
                a, b = tv[j], tv[j + 1]
                missing = b - a - 1.0 / rate
                rows_between = np.any((time > a) & (time < b))
                where = f"column {s.columns[k]!r}" if rows_between else tname
                what = "has NaN/dropout samples" if rows_between else "jumps"
                msg = (f"{src}: {where} {what} from t={a:.3f} s to t={b:.3f} s "
                       f"({missing:.3f} s missing)")  # fmt: skip
                if missing > max_gap_s + 1e-9:
                    raise GaitDataError(f"{msg}, longer than the {max_gap_s:g} s that may be "
                                        "interpolated; cut the recording there or raise --max-gap")  # fmt: skip
                issues.append(Issue("gap_interpolated", msg + "; interpolated", "warning",
                                    s.sensor, s.columns[k], float(a), float(b)))  # fmt: skip
        acc[s.sensor] = out
    return grid, acc, issues


def resample(rec: Recording, target_rate_hz: float) -> Recording:
    """Resample to ``target_rate_hz`` (polyphase FIR with anti-aliasing when the ratio is a
    fraction with denominator <= 1000, otherwise low-pass + cubic interpolation)."""
    from dataclasses import replace

    from scipy.interpolate import CubicSpline
    from scipy.signal import butter, resample_poly, sosfiltfilt

    if target_rate_hz <= 0:
        raise GaitDataError(f"target rate must be > 0 Hz, got {target_rate_hz}")
    if abs(target_rate_hz - rec.rate_hz) < 1e-9 * rec.rate_hz:
        return rec
    ratio = Fraction(target_rate_hz / rec.rate_hz).limit_denominator(1000)
    m = int(np.floor(rec.duration_s * target_rate_hz + 1e-6)) + 1
    t = rec.time[0] + np.arange(m) / target_rate_hz
    acc = {}
    exact = abs(rec.rate_hz * ratio.numerator / ratio.denominator - target_rate_hz) < 1e-9
    for name, a in rec.acc.items():
        if exact:
            y = resample_poly(a, ratio.numerator, ratio.denominator, axis=0, padtype="line")
            acc[name] = y[:m] if len(y) >= m else np.vstack([y, np.repeat(y[-1:], m - len(y), 0)])
        else:
            x = a
            if target_rate_hz < rec.rate_hz:
                sos = butter(4, 0.45 * target_rate_hz, fs=rec.rate_hz, output="sos")
                x = sosfiltfilt(sos, a, axis=0)
            acc[name] = CubicSpline(rec.time, x, axis=0)(np.minimum(t, rec.time[-1]))
    return replace(rec, time=t, rate_hz=float(target_rate_hz), acc=acc)
