"""A seeded mutator of spec files: every spec in specs/ and solver profile in solvers/, bent in
ways a hostile or careless user would.

Each ``Case`` carries the bytes to write, the file suffix and what a correct ``footdt validate``
must do with it: ``refuse`` (the mutation makes the file invalid whatever else holds: a NaN or
1e300 where a number goes, a number where text goes, an unknown key, a duplicated pressure, a
UTF-16 file...) or ``any`` (valid or not, it must only be answered cleanly: one-line errors, no
traceback, within the time limit). A case ``accepted`` although it is ``refuse`` is garbage
accepted silently.

Mutations of the parsed data are serialised back to YAML (every string double-quoted, so a
string never turns into a number on the way) or TOML; text mutations work on the bytes.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]

#: Numbers no field of any spec accepts (every number has a finite physical range below 1e15).
BAD_NUMBERS: tuple[float, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    1e300,
    -1e300,
    1e15,
    -1e15,
)
#: Values that are never a number.
NOT_NUMBERS: tuple[Any, ...] = ("60 MPa", "", "[/x]", [8], {"value": 1}, True)
#: Values that are never a string.
NOT_STRINGS: tuple[Any, ...] = (5, 2.5, [1, 2], {"a": 1}, True)
#: Values that are never a boolean.
NOT_BOOLS: tuple[Any, ...] = (5, "maybe", [True], {"a": 1})
#: Strings meant to break printers and parsers (markup, control characters, long text).
NASTY_STRINGS: tuple[str, ...] = (
    "[bold]x[/bold]",
    "[/]",
    "[/x]",
    "bar [/].yaml",
    "\x1b[31mred\x1b[0m",
    "line\nbreak",
    "tab\there",
    "ünïcödé ✓",
    "{{template}}",
    "%s%s%s%n",
    "A" * 5000,
    "'; DROP TABLE labels; --",
    "../../etc/passwd",
    "",
    " ",
)
#: Free-form mappings: their keys are the user's names, not schema keys.
FREE_FORM = {
    "materials",
    "landmarks",
    "node_sets",
    "part_sizes",
    "bones",
    "measurements",
    "hyperparameters",
    "search_space",
}
#: Lists whose items must be distinct: duplicating one is always an error.
DISTINCT_LISTS = {
    "phases",
    "sections",
    "connectors",
    "pressures",
    "forces",
    "targets",
    "sensors",
    "channels",
    "static_features",
    "seeds",
    "dofs",
    "statistics",
    "parts",
}
#: Lists that must hold at least one item: emptying one is always an error.
NONEMPTY_LISTS = {
    "phases",
    "sections",
    "targets",
    "sensors",
    "channels",
    "seeds",
    "ridge_alphas",
    "dofs",
    "statistics",
}


def _list_name(path: tuple[Any, ...]) -> str:
    """The schema name of the list at ``path`` ('choices' for a search-space list)."""
    if len(path) >= 2 and path[-2] == "search_space":
        return "choices"
    return str(path[-1]) if path and isinstance(path[-1], str) else ""


YAML_SNIPPETS: tuple[str, ...] = (
    "base: &b {E: 1.0, nu: 0.3}\nmerged:\n  <<: *b\n",
    "r: &r [*r]\n",
    "m: &m {k: *m}\n",
    "x: !foo bar\n",
    "x: !!python/object/apply:os.system ['echo pwned']\n",
    "x: !!binary aGVsbG8=\n",
    "x: !!set {a, b}\n",
    "x: !!timestamp 2001-12-14\n",
    "x: !!float nope\n",
    "x: !!int 0x\n",
    "? [a, b]\n: 1\n",
    "? {a: 1}\n: 2\n",
    "%YAML 1.1\n---\n",
    "---\nsecond: document\n",
    "x: 1:30\n",
    "x: 0o17\n",
    "x: 1_000\n",
    "x: " + "[" * 200 + "]" * 200 + "\n",
    "x: " + "9" * 5000 + "\n",
    "x: *undefined\n",
    "\t- tab: indent\n",
    "x: 'unterminated\n",
    "x: \x07bell\n",
    "\ufeffx: bom\n",
    "~: null key\n",
    ": empty key\n",
    "x: \ud800\n",
)
TOML_SNIPPETS: tuple[str, ...] = (
    "[[phases]]\nname = 1\n",
    "[a]\nx = 1\n[a]\ny = 2\n",
    "x = 1979-05-27T07:32:00Z\n",
    "x = nan\n",
    "x = -inf\n",
    'x = """\nmulti\nline\n"""\n',
    "x = " + "[" * 200 + "]" * 200 + "\n",
    "x = " + "9" * 5000 + "\n",
    'a.b.c.d.e = "deep"\n',
    "x = { a = 1, a = 2 }\n",
    "= 1\n",
    "x = 'unterminated\n",
    "\x00 = 1\n",
)


@dataclass(frozen=True)
class Seed:
    path: Path
    text: str
    data: dict[str, Any]

    @property
    def suffix(self) -> str:
        return self.path.suffix


@dataclass(frozen=True)
class Case:
    """One fuzz input: the file's bytes (or a special file), what must happen, how it was made."""

    seed: str
    op: str
    suffix: str
    content: bytes
    expect: str  # "refuse" | "any"
    special: str | None = None  # "fifo" | "dev_zero" | "folder" | "missing" | "symlink_loop"
    what: str = ""  # what a data mutation changed (path = value)
    filename: str = "case"  # the file's name without suffix (may hold markup and a folder)


#: File names a case may get: markup, spaces, a folder whose name opens a bracket (bar [/].yaml).
FILENAMES = ("case", "case", "case", "bar [/]", "[bold]x[/bold]", "ünï cödé", "a b;c", "-x")


def seeds() -> list[Seed]:
    """Every spec in specs/ and every solver profile in solvers/, parsed."""
    from footdt.spec.loader import read_data

    out = []
    for path in sorted([*(REPO / "specs").rglob("*.yaml"), *(REPO / "solvers").glob("*.toml")]):
        data, _ = read_data(path)
        text = path.read_text()
        template = data.get("template") if data.get("kind") == "cohort" else None
        if isinstance(template, str):  # mutated copies live elsewhere: name the template fully
            full = str((path.parent / template).resolve())
            data["template"] = full
            text = text.replace(f"template: {template}", f"template: {full}")
        out.append(Seed(path=path, text=text, data=data))
    return out


# --- serialising ---------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


def _float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    if math.isnan(value):
        text = ".nan"
    elif math.isinf(value):
        text = ".inf" if value > 0 else "-.inf"
    else:
        text = repr(value)
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(float, _float)


def to_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 30)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        items = [f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(items) + " }"
    return '""'


def _toml_key(k: Any) -> str:
    k = str(k)
    return k if re.fullmatch(r"[A-Za-z0-9_\-]+", k) else json.dumps(k)


def to_toml(data: dict[str, Any]) -> str:
    """TOML for a mapping: top-level ``key = value`` lines, nested values inline (None dropped)."""
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in data.items() if v is not None)


def serialise(data: Any, suffix: str) -> bytes:
    text = to_toml(data) if suffix == ".toml" else to_yaml(data)
    return text.encode("utf-8", "surrogatepass")


# --- data mutations ------------------------------------------------------------------------------

Path_ = tuple[Any, ...]


def _leaves(data: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every (path, value) in the tree, containers included (the root excepted)."""
    if path:
        yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _leaves(v, (*path, i))


def _copy(data: Any) -> Any:
    return json.loads(json.dumps(data, allow_nan=True))


def _set(data: Any, path: Path_, value: Any) -> Any:
    LAST["what"] = f"{_dotted(path)} = {json.dumps(value, allow_nan=True)[:80]}"
    data = _copy(data)
    node = data
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return data


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _free_form_key(path: Path_) -> bool:
    """Is the last element of ``path`` a user's name in a free-form mapping?"""
    return len(path) >= 2 and path[-2] in FREE_FORM


Mutation = tuple[str, Any, str]  # (op, new data, expect)

#: What the last data mutation did (path = value), for reports.
LAST: dict[str, str] = {}


def _dotted(path: Path_) -> str:
    return ".".join(str(p)[:40] for p in path)


def mutate_data(rng: random.Random, data: dict[str, Any], chained: bool = False) -> Mutation | None:
    """One mutation of the parsed data with its expectation; None if the op does not apply
    (``chained``: no deep nesting or long lists, which a second one would blow up)."""
    leaves = list(_leaves(data))
    op = rng.choice(
        [
            "bad_number",
            "bad_number",
            "not_a_number",
            "not_a_string",
            "not_a_bool",
            "unknown_key",
            "unknown_key",
            "delete_key",
            "empty_value",
            "duplicate_item",
            "empty_list",
            "scale_number",
            "negate_number",
            "nasty_string",
            "deep_value",
            "long_list",
            "swap_values",
        ]
    )
    numbers = [(p, v) for p, v in leaves if _is_number(v)]
    strings = [(p, v) for p, v in leaves if isinstance(v, str)]
    bools = [(p, v) for p, v in leaves if isinstance(v, bool)]
    dicts = [(p, v) for p, v in [((), data), *leaves] if isinstance(v, dict)]
    lists = [(p, v) for p, v in leaves if isinstance(v, list)]
    keyed = [(p, v) for p, v in leaves if isinstance(p[-1], str)]
    if op == "bad_number" and numbers:
        p, _ = rng.choice(numbers)
        return op, _set(data, p, rng.choice(BAD_NUMBERS)), "refuse"
    if op == "not_a_number" and numbers:
        p, _ = rng.choice(numbers)
        return op, _set(data, p, _copy(rng.choice(NOT_NUMBERS))), "refuse"
    if op == "not_a_string" and strings:
        p, _ = rng.choice(strings)
        return op, _set(data, p, _copy(rng.choice(NOT_STRINGS))), "refuse"
    if op == "not_a_bool" and bools:
        p, _ = rng.choice(bools)
        return op, _set(data, p, _copy(rng.choice(NOT_BOOLS))), "refuse"
    if op == "unknown_key" and dicts:
        p, d = rng.choice(dicts)
        key = rng.choice(["colour", "[bold]x[/bold]", "K" * 300, "Mesh", "phase", "unit s"])
        if key in d:
            return None
        new = _copy(d)
        new[key] = 1
        LAST["what"] = f"{_dotted(p)}.{key[:40]} = 1"
        return op, (_set(data, p, new) if p else new), "refuse"
    if op == "delete_key" and keyed:
        p, _ = rng.choice(keyed)
        new = _copy(data)
        node = new
        for q in p[:-1]:
            node = node[q]
        del node[p[-1]]
        LAST["what"] = f"del {_dotted(p)}"
        return op, new, "any"
    if op == "empty_value" and leaves:
        p, _ = rng.choice(leaves)
        return op, _set(data, p, None), "any"
    if op == "duplicate_item" and lists:
        p, v = rng.choice([(p, v) for p, v in lists if v] or [(None, None)])
        if p is None:
            return None
        i = rng.randrange(len(v))
        new = [*v[: i + 1], v[i], *v[i + 1 :]]
        name = _list_name(p)
        refuse = name in DISTINCT_LISTS or name == "choices"
        return op, _set(data, p, _copy(new)), "refuse" if refuse else "any"
    if op == "empty_list" and lists:
        p, _ = rng.choice(lists)
        name = _list_name(p)
        refuse = name in NONEMPTY_LISTS or name == "choices"
        return op, _set(data, p, []), "refuse" if refuse else "any"
    if op == "scale_number" and numbers:
        p, v = rng.choice(numbers)
        return op, _set(data, p, v * rng.choice([1000, 1e-3, 1e6, 1e-9, 25.4])), "any"
    if op == "negate_number" and numbers:
        p, v = rng.choice(numbers)
        return op, _set(data, p, -v if v else -1), "any"
    if op == "nasty_string" and strings:
        p, _ = rng.choice(strings)
        return op, _set(data, p, rng.choice(NASTY_STRINGS)), "any"
    if op == "deep_value" and leaves and not chained:
        p, _ = rng.choice(leaves)
        deep: Any = 1
        for _ in range(rng.choice([70, 150, 300])):
            deep = [deep]
        return op, _set(data, p, deep), "refuse"
    if op == "long_list" and lists and not chained:
        p, v = rng.choice(lists)
        if not v:
            return None
        times = max(2, rng.choice([100, 3000]) // len(v))  # a list of up to ~3,000 items
        return op, _set(data, p, _copy(v) * times), "any"
    if op == "swap_values" and len(leaves) >= 2:
        (p, _), (_, b) = rng.sample(leaves, 2)
        return op, _set(data, p, _copy(b)), "any"
    return None


# --- text mutations ------------------------------------------------------------------------------


def _insert_line(rng: random.Random, text: str, snippet: str) -> str:
    lines = text.splitlines(keepends=True)
    i = rng.randrange(len(lines) + 1)
    return "".join([*lines[:i], snippet, *lines[i:]])


def mutate_text(rng: random.Random, seed: Seed) -> tuple[str, bytes, str]:
    """One mutation of the file's text or bytes: (op, bytes, expect)."""
    text = seed.text
    raw = text.encode()
    op = rng.choice(
        [
            "truncate",
            "flip_bytes",
            "insert_bytes",
            "snippet",
            "snippet",
            "duplicate_line",
            "delete_line",
            "indent_line",
            "utf16",
            "bom",
            "crlf",
            "whole_file",
        ]
    )
    if op == "truncate":
        return op, raw[: rng.randrange(len(raw) + 1)], "any"
    if op == "flip_bytes":
        b = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return op, bytes(b), "any"
    if op == "insert_bytes":
        i = rng.randrange(len(raw) + 1)
        junk = rng.choice(
            [b"\x00", b"\x1b[2J", b"\xff\xfe", b"\r", b"\x85", b"\t", b"\xe2\x80\xa8"]
        )
        return op, raw[:i] + junk + raw[i:], "any"
    if op == "snippet":
        pool = TOML_SNIPPETS if seed.suffix == ".toml" else YAML_SNIPPETS
        snippet = rng.choice(pool)
        return op, _insert_line(rng, text, snippet).encode("utf-8", "surrogatepass"), "any"
    lines = text.splitlines(keepends=True)
    if op == "duplicate_line":
        i = rng.randrange(len(lines))
        return op, "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]]).encode(), "any"
    if op == "delete_line":
        i = rng.randrange(len(lines))
        return op, "".join([*lines[:i], *lines[i + 1 :]]).encode(), "any"
    if op == "indent_line":
        i = rng.randrange(len(lines))
        lines[i] = rng.choice(["  ", "\t", " "]) + lines[i]
        return op, "".join(lines).encode(), "any"
    if op == "utf16":
        return op, text.encode(rng.choice(["utf-16", "utf-16-le", "utf-16-be"])), "refuse"
    if op == "bom":
        return op, b"\xef\xbb\xbf" + raw, "any"
    if op == "crlf":
        return op, text.replace("\n", "\r\n").encode(), "any"
    return whole_file(rng, seed.suffix)


def _alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def whole_file(rng: random.Random, suffix: str) -> tuple[str, bytes, str]:
    """Files that are wrong as a whole (every one must be refused)."""
    choices: list[Callable[[], bytes]] = [
        lambda: b"",
        lambda: b"# only a comment\n",
        lambda: b"5\n",
        lambda: b"- a\n- b\n",
        lambda: bytes(rng.randrange(256) for _ in range(rng.choice([16, 1024]))),
        lambda: b"k: " + b"v" * (1 << 21) + b"\n",  # over the size limit
        lambda: "".join(f"k{i}: {i}\n" for i in range(30000)).encode(),
        lambda: _alias_bomb().encode(),
        lambda: ("a: " + "[" * 100000 + "]" * 100000 + "\n").encode(),
        lambda: "".join(f"[t{i}]\nx = {i}\n" for i in range(15000)).encode(),
        lambda: b"\x00" * 4096,
        lambda: "kind: subject\n".encode("utf-16"),
    ]
    i = rng.randrange(len(choices))
    return f"whole_file_{i}", choices[i](), "refuse"


SPECIAL = ("fifo", "dev_zero", "folder", "missing", "symlink_loop", "dev_null")


def generate(n: int, seed: int = 0) -> Iterator[Case]:
    """``n`` cases drawn from ``seed``: about 55 % data mutations (one each, with an oracle),
    30 % text mutations, 10 % chains of several mutations, the special files once each."""
    rng = random.Random(seed)
    pool = seeds()
    made = 0
    for special in SPECIAL:
        if made >= n:
            return
        yield Case("-", f"special_{special}", ".yaml", b"", "refuse", special=special)
        made += 1
    while made < n:
        s = rng.choice(pool)
        r = rng.random()
        fname = rng.choice(FILENAMES)
        name = str(s.path.relative_to(REPO))
        if r < 0.55:
            m = mutate_data(rng, s.data)
            if m is None:
                continue
            op, data, expect = m
            content = serialise(data, s.suffix)
            yield Case(name, op, s.suffix, content, expect, what=LAST["what"], filename=fname)
        elif r < 0.9:
            op, content, expect = mutate_text(rng, s)
            yield Case(name, op, s.suffix, content, expect, filename=fname)
        else:
            data: Any = s.data
            ops, whats = [], []
            for _ in range(rng.randint(2, 4)):
                m = mutate_data(rng, data, chained=True) if isinstance(data, dict) else None
                if m is None:
                    continue
                ops.append(m[0])
                whats.append(LAST["what"])
                data = m[1]
            if not ops:
                continue
            content = serialise(data, s.suffix)
            yield Case(
                name, "chain:" + "+".join(ops), s.suffix, content, "any", what="; ".join(whats)
            )
        made += 1
