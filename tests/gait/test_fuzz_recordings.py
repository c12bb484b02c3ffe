"""Seeded mutations of a good recording: every one is read correctly or refused in one line.

Each case takes the CSV of a synthetic 8-stride run, applies one mutation drawn from ``MUTATIONS``
with a seeded generator, and reads it the way ``footdt gait detect`` / ``footdt predict`` do
(``read_recording`` then the strict ``analyse``). An outcome is

- ``ok``: read; for mutations that keep the data (another delimiter, decimal commas, a BOM, a
  footer...) the accelerations must equal the original's;
- ``clean``: a ``FootdtError`` whose message is one line of at most 300 characters;
- ``traceback``: any other exception; ``hang``: no answer within 10 s;
- ``garbage``: accepted although the mutation makes the file wrong (scaled units, rows out of
  order, a constant signal, UTF-16...).

Only ``ok`` and ``clean`` pass. The default run does ``DEFAULT_CASES``; ``FOOTDT_FUZZ_CASES=N``
runs N (``make fuzz``), and ``FOOTDT_FUZZ_SEED`` moves the seed. The counts per outcome are
printed (``pytest -s``) and, with ``FOOTDT_FUZZ_REPORT=file.json``, written as JSON.
"""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from footdt.errors import FootdtError
from footdt.gait.checks import analyse
from footdt.gait.io import read_recording
from tests.gait.synth import SENSOR_ARGS, running_signal, write_csv

DEFAULT_CASES = 80
TIME_LIMIT_S = 10
MAX_MESSAGE = 300

Mutation = Callable[[list[str], np.random.Generator], tuple[bytes, str]]
# expect: "same" (must read and equal the original), "refuse" (must be refused), "any"
MUTATIONS: dict[str, tuple[str, Mutation]] = {}


def mutation(expect: str) -> Callable[[Mutation], Mutation]:
    def deco(fn: Mutation) -> Mutation:
        MUTATIONS[fn.__name__] = (expect, fn)
        return fn

    return deco


def _text(lines: list[str], end: str = "\n") -> bytes:
    return (end.join(lines) + end).encode()


def _row(lines: list[str], rng: np.random.Generator) -> int:
    return int(rng.integers(1, len(lines)))


TOKENS = ["", "--", "NA", "n/a", "nan", "-", "abc", "1e400", "-inf", "0x1F", "1,5", "∞",
          "'; DROP TABLE x", "[bold]x[/bold]", "[/]", "9" * 400, "1e300", "-1e300", " 3 ",
          "+0.5", "1.2.3", "TRUE", "\t"]  # fmt: skip


@mutation("any")
def cell(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    out = list(lines)
    for _ in range(int(rng.integers(1, 4))):
        i = _row(out, rng)
        cells = out[i].split(",")
        j = int(rng.integers(0, len(cells)))
        tok = TOKENS[int(rng.integers(0, len(TOKENS)))]
        cells[j] = tok
        out[i] = ",".join(cells)
    return _text(out), f"cells -> {tok!r}"


@mutation("any")
def extra_fields(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    out = list(lines)
    i = _row(out, rng)
    out[i] += ",1.0" * int(rng.integers(1, 4))
    return _text(out), f"row {i} longer"


@mutation("any")
def missing_fields(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    out = list(lines)
    i = _row(out, rng)
    out[i] = ",".join(out[i].split(",")[: int(rng.integers(1, 7))])
    return _text(out), f"row {i} shorter"


@mutation("same")
def footer(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    extra = ["END OF DATA", "Total;;;", "Export finished", "--- end ---"]
    k = int(rng.integers(1, 3))
    return _text([*lines, *(extra[int(rng.integers(0, len(extra)))] for _ in range(k))]), "footer"


@mutation("same")
def german(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    return _text([ln.replace(",", ";").replace(".", ",") for ln in lines]), "; and decimal commas"


@mutation("same")
def delimiter(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    d = ["\t", ";", "|", " "][int(rng.integers(0, 4))]
    return _text([ln.replace(",", d) for ln in lines]), f"delimiter {d!r}"


@mutation("same")
def line_endings(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    return _text(lines, "\r\n"), "CRLF"


@mutation("same")
def bom(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    return b"\xef\xbb\xbf" + _text(lines), "UTF-8 BOM"


@mutation("same")
def comments_and_blanks(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    out = ["# exported by a sensor app", *lines[:1], "", *lines[1:], ""]
    return _text(out), "comments and blank lines"


@mutation("any")
def header_junk(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    return _text(["Device: IMU-3000", "Sample rate: 100 Hz", *lines]), "metadata lines"


@mutation("any")
def truncate(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    data = _text(lines)
    n = int(rng.integers(0, len(data)))
    return data[:n], f"cut at byte {n}"


@mutation("any")
def binary(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    data = bytearray(_text(lines))
    at = int(rng.integers(0, len(data)))
    data[at:at] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    return bytes(data), f"random bytes at {at}"


@mutation("refuse")
def utf16(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    return "\n".join(lines).encode("utf-16"), "UTF-16"


@mutation("refuse")
def scaled(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    f = [1000.0, 1e-3, 9.80665**2, 1e6][int(rng.integers(0, 4))]
    out = [lines[0]]
    for ln in lines[1:]:
        c = ln.split(",")
        out.append(",".join([c[0], *(f"{float(x) * f:.9g}" for x in c[1:])]))
    return _text(out), f"values x {f:g}"


@mutation("refuse")
def constant(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    v = ["0", "1", "0.5"][int(rng.integers(0, 3))]
    out = [lines[0], *(",".join([ln.split(",")[0], *[v] * 6]) for ln in lines[1:])]
    return _text(out), f"constant {v}"


@mutation("refuse")
def out_of_order(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    out = list(lines)
    i = _row(out[:-1], rng)
    if rng.random() < 0.5:
        out[i], out[i + 1] = out[i + 1], out[i]
        return _text(out), f"rows {i} and {i + 1} swapped"
    out.insert(i, out[i])
    return _text(out), f"row {i} duplicated"


@mutation("refuse")
def long_gap(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    out = list(lines)
    i = int(rng.integers(2, len(out) - 40))
    for j in range(i, i + 30):
        c = out[j].split(",")
        out[j] = ",".join([c[0], *["nan"] * 6])
    return _text(out), f"0.3 s of NaN from row {i}"


@mutation("refuse")
def empty(lines: list[str], rng: np.random.Generator) -> tuple[bytes, str]:
    return [b"", b"\n\n", _text(lines[:1]), _text(lines[:2])][int(rng.integers(0, 4))], "no data"


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def _raise(*_: object) -> None:
        raise TimeoutError

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_case(path: Path, reference: dict[str, np.ndarray]) -> tuple[str, str]:
    """(outcome, detail) of reading one file as ``footdt gait detect`` does."""
    try:
        with _time_limit(TIME_LIMIT_S):
            rec = read_recording(path.name, SENSOR_ARGS, units="g")
            analyse(rec, strict=True)
    except TimeoutError:
        return "hang", ""
    except FootdtError as exc:
        msg = str(exc)
        if "\n" in msg or len(msg) > MAX_MESSAGE or not msg.strip():
            return "long_message", msg[:500]
        return "clean", msg
    except Exception as exc:  # what the fuzz looks for
        return "traceback", f"{type(exc).__name__}: {exc}"[:500]
    same = all(
        rec.acc[s].shape == reference[s].shape and np.allclose(rec.acc[s], reference[s], atol=1e-4)
        for s in reference
    )
    return ("ok_same" if same else "ok_changed"), ""


def fuzz(n_cases: int, seed: int, workdir: Path) -> tuple[Counter[str], list[str]]:
    """Run ``n_cases`` mutations; returns counts per outcome and the failures' descriptions."""
    t, acc, _, _ = running_signal(n_strides=8, seed=2)
    base = write_csv(workdir / "base.csv", t, acc, units="g")
    lines = base.read_text().splitlines()
    cwd = Path.cwd()
    os.chdir(workdir)  # messages name the file as a user would: rec.csv
    try:
        reference = read_recording(base.name, SENSOR_ARGS, units="g").acc
        rng = np.random.default_rng(seed)
        names = sorted(MUTATIONS)
        counts: Counter[str] = Counter()
        failures = []
        for case in range(n_cases):
            name = names[case % len(names)] if case < len(names) else str(rng.choice(names))
            expect, fn = MUTATIONS[name]
            data, what = fn(lines, rng)
            path = workdir / "rec.csv"
            path.write_bytes(data)
            outcome, detail = run_case(path, reference)
            if outcome.startswith("ok") and expect == "refuse":
                outcome = "garbage"
            elif outcome != "ok_same" and expect == "same":
                outcome = "garbage" if outcome == "ok_changed" else outcome
                if outcome == "clean":
                    outcome = "refused_good_file"
            counts[outcome] += 1
            if outcome not in ("ok_same", "ok_changed", "clean"):
                failures.append(f"case {case} {name} ({what}): {outcome} {detail}")
        return counts, failures
    finally:
        os.chdir(cwd)


def test_fuzzed_recordings_are_read_or_refused_in_one_line(tmp_path: Path) -> None:
    n = int(os.environ.get("FOOTDT_FUZZ_CASES", DEFAULT_CASES))
    seed = int(os.environ.get("FOOTDT_FUZZ_SEED", 16))
    counts, failures = fuzz(n, seed, tmp_path)
    summary = {"cases": n, "seed": seed, **dict(sorted(counts.items()))}
    print("recording fuzz:", json.dumps(summary))
    if os.environ.get("FOOTDT_FUZZ_REPORT"):
        Path(os.environ["FOOTDT_FUZZ_REPORT"]).write_text(json.dumps(summary, indent=1) + "\n")
    assert not failures, "\n".join(failures[:20])
    assert counts["ok_same"] > 0 and counts["clean"] > 0  # both kinds of answer were exercised


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_every_mutation_is_exercised(name: str, tmp_path: Path) -> None:
    """One case of each mutation on its own, so a failure names it."""
    t, acc, _, _ = running_signal(n_strides=8, seed=2)
    base = write_csv(tmp_path / "base.csv", t, acc, units="g")
    lines = base.read_text().splitlines()
    expect, fn = MUTATIONS[name]
    data, what = fn(lines, np.random.default_rng(3))
    (tmp_path / "rec.csv").write_bytes(data)
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        reference = read_recording(base.name, SENSOR_ARGS, units="g").acc
        outcome, detail = run_case(tmp_path / "rec.csv", reference)
    finally:
        os.chdir(cwd)
    assert outcome in ("ok_same", "ok_changed", "clean"), f"{what}: {outcome} {detail}"
    if expect == "same":
        assert outcome == "ok_same", f"{what}: {outcome} {detail}"
    if expect == "refuse":
        assert outcome == "clean", f"{what}: {outcome} {detail}"
