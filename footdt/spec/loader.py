"""Load YAML/TOML spec files, validate them, and report errors as ``file:line: field: message``.

Hostile or broken input is refused with one line each (docs/robustness.md): anything but a
regular file, files over ``MAX_BYTES``, text that is not UTF-8, NUL bytes, syntax errors, and in
YAML merge keys, complex keys, tags other than the core schema's, aliases that contain
themselves, expansions to more than ``MAX_VALUES`` values and nesting deeper than ``MAX_DEPTH``.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import json
import math
import os
import re
import stat
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from footdt.errors import SpecError, excerpt, shorten
from footdt.spec.experiment import ExperimentSpec
from footdt.spec.fields import describe
from footdt.spec.geometry import Geometry
from footdt.spec.subject import MeshOptions, SubjectSpec

Loc = tuple[str | int, ...]
AnySpec = SubjectSpec | ExperimentSpec

#: Limits on what a spec file may hold: a spec is a page of text, so anything far larger is a
#: mistake (or an attack) and is refused before it can take minutes or gigabytes.
MAX_BYTES = 1 << 20  # 1 MiB
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_VALUES = 200_000  # values after YAML aliases are expanded (an alias bomb expands to billions)
MAX_ERRORS = 8  # validation errors reported per file


def _show_path(path: Path) -> str:
    """The path as messages show it: one line, at most 120 characters."""
    text = str(path).replace("\n", "?").replace("\r", "?")
    return text if len(text) <= 120 else f"...{text[-117:]}"


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) if len(str(p)) <= 40 else excerpt(str(p)) for p in loc)


@dataclass(frozen=True)
class SourceMap:
    """Where each value of a spec file came from, so later passes can point at a line."""

    path: Path
    lines: dict[Loc, int] = field(default_factory=dict)
    text_hash: str = ""

    def line(self, loc: Loc) -> int:
        """Line of ``loc`` or of its nearest ancestor that has one (1-based; 1 if unknown)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    @property
    def display(self) -> str:
        """The path as error messages show it (one line, at most 120 characters)."""
        return _show_path(self.path)

    def where(self, loc: Loc) -> str:
        return f"{self.display}:{self.line(loc)}"

    def error(self, loc: Loc, message: str) -> SpecError:
        """``file:line: field: message`` as one line of at most 300 characters."""
        dotted = _dotted(tuple(loc))
        where = self.where(loc)
        return SpecError(
            shorten(f"{where}: {dotted}: {message}" if dotted else f"{where}: {message}")
        )


@dataclass(frozen=True)
class LoadedSpec:
    spec: AnySpec
    source: SourceMap

    @property
    def hash(self) -> str:
        """Hash of the validated content (not of formatting or comments)."""
        return spec_hash(self.spec)

    def with_mesh(self, size: float | None = None, order: int | None = None) -> LoadedSpec:
        """The same subject spec with another global element size (per-part sizes scale with it)
        or element order; the source map is kept so errors still point into the file."""
        spec = self.spec
        if not isinstance(spec, SubjectSpec):
            raise SpecError(f"{self.source.display}: only subject specs have a mesh")
        update: dict[str, Any] = {}
        if size is not None:
            factor = size / spec.mesh.size
            update["size"] = size
            update["part_sizes"] = {k: v * factor for k, v in spec.mesh.part_sizes.items()}
        if order is not None:
            update["order"] = order
        try:  # the same bounds as in a spec file
            mesh = MeshOptions.model_validate({**spec.mesh.model_dump(), **update})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise SpecError(
                f"{self.source.display}: mesh {field} {excerpt(update.get(str(err['loc'][0])))}: "
                f"{_message(err, 'see docs/spec.md')}"
            ) from None
        return LoadedSpec(spec.model_copy(update={"mesh": mesh}), self.source)


def spec_hash(spec: BaseModel) -> str:
    from footdt.fileio import json_digest

    return json_digest(spec.model_dump(mode="json"))


# --- YAML ----------------------------------------------------------------------------------------

_YAML_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "str", "int", "float", "bool", "null")
)
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


class _Yaml12Loader(_Base):
    """A safe loader with the YAML 1.2 core schema: only true/false are booleans (so `on:`,
    `yes`, `no` stay strings), `1e-3` is a number, `010` is ten, dates stay text."""


_Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _rx, _first in (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"]),
):
    _Yaml12Loader.add_implicit_resolver(_tag, re.compile(_rx), _first)


class _Refused(Exception):
    """A YAML document over a limit or using a feature specs do not allow."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _scalar(node: yaml.ScalarNode) -> Any:
    """The value of a scalar node under the core schema (no re-serialising, no other tags)."""
    line = node.start_mark.line + 1
    tag, text = node.tag, node.value
    if tag not in _YAML_TAGS:
        raise _Refused(line, f"YAML tag {excerpt(tag)} is not supported in a spec: remove it")
    kind = tag.rsplit(":", 1)[1]
    try:
        if kind == "null":
            if text not in ("", "~", "null", "Null", "NULL"):
                raise ValueError(text)
            return None
        if kind == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind == "int":
            sign = -1 if text.startswith("-") else 1
            body = text.lstrip("+-")
            if body.startswith(("0x", "0o")):
                return sign * int(body[2:], 16 if body[1] == "x" else 8)
            return sign * int(body, 10)
        if kind == "float":
            low = text.lower()
            if low.endswith(".inf"):
                return -math.inf if low.startswith("-") else math.inf
            return math.nan if low == ".nan" else float(text)
    except ValueError:
        raise _Refused(
            line, f"cannot read {excerpt(text)} as {kind}: write a plain value"
        ) from None
    return text


class _Walk:
    """A composed YAML node graph as Python data with the line of every value; aliases are
    expanded, but at most ``MAX_VALUES`` values and ``MAX_DEPTH`` levels."""

    def __init__(self, lines: dict[Loc, int]) -> None:
        self.lines = lines
        self.count = 0
        self.open: set[int] = set()  # collections being converted (an alias to one recurses)

    def node(self, node: yaml.Node, loc: Loc, depth: int) -> Any:
        line = node.start_mark.line + 1
        self.count += 1
        if self.count > MAX_VALUES:
            raise _Refused(
                line,
                f"the file expands to more than {MAX_VALUES:,} values (through YAML aliases?): "
                "a spec this large is refused",
            )
        if depth > MAX_DEPTH:
            raise _Refused(line, f"nested deeper than {MAX_DEPTH} levels: flatten the file")
        self.lines.setdefault(loc, line)
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if node.tag not in _YAML_TAGS:
            raise _Refused(
                line, f"YAML tag {excerpt(node.tag)} is not supported in a spec: remove it"
            )
        if id(node) in self.open:
            raise _Refused(line, "a YAML alias refers to the list or mapping that holds it")
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.node(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
            assert isinstance(node, yaml.MappingNode)
            return self.mapping(node, loc, depth)
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, loc: Loc, depth: int) -> dict[Any, Any]:
        data: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            kline = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(kline, "YAML merge keys (<<) are not supported: write the keys out")
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(kline, "a key must be a plain name, not a list or mapping")
            key = _scalar(key_node)
            if key is None:
                raise _Refused(kline, "a key is empty: give it a name")
            if key in data:
                raise _Refused(kline, f"duplicate key {excerpt(key)}: keep one")
            self.lines[(*loc, key)] = kline
            data[key] = self.node(value_node, (*loc, key), depth + 1)
            self.lines[(*loc, key)] = kline
        return data


def _measure(root: yaml.Node) -> None:
    """Refuse a node graph that would expand (through aliases) to more than ``MAX_VALUES`` values
    or ``MAX_DEPTH`` levels, or that contains itself, in time linear in its distinct nodes: an
    alias bomb is refused before a single value is built."""
    memo: dict[int, tuple[int, int]] = {}  # id -> (values, height) of the expanded subtree
    open_: set[int] = set()

    def visit(node: yaml.Node, depth: int) -> tuple[int, int]:
        line = node.start_mark.line + 1 if node.start_mark else 1
        if depth > MAX_DEPTH:
            raise _Refused(line, f"nested deeper than {MAX_DEPTH} levels: flatten the file")
        key = id(node)
        if key in memo:
            size, height = memo[key]
            if depth + height > MAX_DEPTH:
                raise _Refused(line, f"nested deeper than {MAX_DEPTH} levels: flatten the file")
            return size, height
        if isinstance(node, yaml.ScalarNode):
            return 1, 0
        if key in open_:
            raise _Refused(line, "a YAML alias refers to the list or mapping that holds it")
        open_.add(key)
        children: list[yaml.Node] = (
            list(node.value)
            if isinstance(node, yaml.SequenceNode)
            else [n for pair in node.value for n in pair]
        )
        size, height = 1, 0
        for child in children:
            s, h = visit(child, depth + 1)
            size += s
            height = max(height, h + 1)
            if size > MAX_VALUES:
                raise _Refused(
                    line,
                    f"the file expands to more than {MAX_VALUES:,} values (through YAML "
                    "aliases?): a spec this large is refused",
                )
        open_.discard(key)
        memo[key] = (size, height)
        return size, height

    visit(root, 0)


def _yaml_data(text: str, lines: dict[Loc, int]) -> Any:
    """Parse one YAML document into data plus a line map (raises ``_Refused`` or YAMLError)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Yaml12Loader):  # fast pre-scan: nesting depth
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 1
                raise _Refused(line, f"nested deeper than {MAX_DEPTH} levels: flatten the file")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    loader = _Yaml12Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is None:
        return None
    _measure(node)
    return _Walk(lines).node(node, (), 0)


# --- TOML ----------------------------------------------------------------------------------------

_TOML_KEY = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_\-]+))\s*""")


def _toml_keys(text: str, pos: int) -> tuple[list[str], int]:
    """The dotted key starting at ``pos`` (bare, "basic" or 'literal' parts) and where it ends."""
    keys: list[str] = []
    while True:
        m = _TOML_KEY.match(text, pos)
        if not m:
            return keys, pos
        basic, literal, bare = m.groups()
        if basic is not None:
            with contextlib.suppress(ValueError):
                basic = json.loads(f'"{basic}"')
        keys.append(basic if basic is not None else literal if literal is not None else bare)
        pos = m.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        return keys, pos


def _toml_lines(text: str) -> dict[Loc, int]:
    """Line map for TOML (tomllib keeps no positions) in one pass over the lines: each table
    header and each ``key =`` line is recorded under its full path, arrays of tables with their
    index. Values inside inline tables and arrays take the line of their key."""
    out: dict[Loc, int] = {}
    arrays: dict[Loc, int] = {}  # arrays of tables seen so far: path -> length
    prefix: Loc = ()
    in_string: str | None = None
    for no, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:  # inside a multi-line string: only look for its end
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            is_array = stripped.startswith("[[")
            keys, _ = _toml_keys(stripped, 2 if is_array else 1)
            resolved: list[str | int] = []
            for i, k in enumerate(keys):
                resolved.append(k)
                last = i == len(keys) - 1
                if tuple(resolved) in arrays and not (last and is_array):
                    resolved.append(arrays[tuple(resolved)] - 1)
            if is_array:
                arr = tuple(resolved)
                arrays[arr] = arrays.get(arr, 0) + 1
                out.setdefault(arr, no)
                resolved.append(arrays[arr] - 1)
            prefix = tuple(resolved)
            out[prefix] = no
            continue
        keys, end = _toml_keys(line, 0)
        if keys and end < len(line) and line[end] == "=":
            out[(*prefix, *keys)] = no
            for quote in ('"""', "'''"):
                if line.count(quote, end) % 2 == 1:
                    in_string = quote
    return out


def _check_shape(data: Any, shown: str) -> None:
    """Refuse data nested deeper than ``MAX_DEPTH`` or holding over ``MAX_VALUES`` values."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    count = 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise SpecError(
                f"{shown}: more than {MAX_VALUES:,} values: a spec this large is refused"
            )
        if depth > MAX_DEPTH:
            raise SpecError(f"{shown}: nested deeper than {MAX_DEPTH} levels: flatten the file")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


# --- reading -------------------------------------------------------------------------------------


def _read_bytes(path: Path, shown: str) -> bytes:
    """The file's bytes, refusing folders, pipes, devices and files over ``MAX_BYTES`` without
    blocking (a FIFO named x.yaml) or reading forever (/dev/zero)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise SpecError(f"{shown}: file not found: check the path") from None
    except PermissionError:
        raise SpecError(f"{shown}: permission denied: make the file readable") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise SpecError(f"{shown}: cannot open: {reason}") from None
    chunks: list[bytes] = []
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise SpecError(f"{shown}: is a folder: give a spec file (.yaml, .yml or .toml)")
        if not stat.S_ISREG(st.st_mode):
            raise SpecError(
                f"{shown}: not a regular file (a pipe, device or socket): give a spec file"
            )
        if st.st_size > MAX_BYTES:
            raise SpecError(
                f"{shown}: {st.st_size:,} bytes is over the {MAX_BYTES:,}-byte limit for a spec: "
                "is this the right file?"
            )
        size = 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise SpecError(f"{shown}: cannot read: {exc.strerror or type(exc).__name__}") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > MAX_BYTES:
        raise SpecError(f"{shown}: over the {MAX_BYTES:,}-byte limit for a spec")
    return raw


def _decode(raw: bytes, shown: str) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is dropped); UTF-16 and binary files are refused."""
    head = raw[:256]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(head) >= 8 and max(even, odd) >= 0.4 * len(head) / 2 and min(even, odd) == 0
    ):
        raise SpecError(f"{shown}:1: the file looks UTF-16 encoded: save it as UTF-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            f"{shown}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}): save the file as UTF-8"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise SpecError(f"{shown}:{line}: the file holds a NUL byte: a spec is plain text")
    return text


def read_data(path: str | Path) -> tuple[Any, SourceMap]:
    """Parse a YAML or TOML file into Python data (a mapping) plus its line map."""
    path = Path(path)
    shown = _show_path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise SpecError(f"{shown}: unknown spec format {excerpt(suffix)}; use .yaml, .yml or .toml")
    text = _decode(_read_bytes(path, shown), shown)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    lines: dict[Loc, int] = {}
    data: Any
    too_deep = f"{shown}: nested deeper than {MAX_DEPTH} levels: flatten the file"
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            reason = excerpt(str(exc).split(" (at ")[0], 120).strip("'\"")
            raise SpecError(
                f"{shown}:{m.group(1) if m else 1}: TOML syntax error: {reason}"
            ) from None
        except RecursionError:
            raise SpecError(too_deep) from None
        except ValueError:  # an integer of more than 4,300 digits
            raise SpecError(f"{shown}: a number is too long: write it in plain digits") from None
        _check_shape(data, shown)
        lines = _toml_lines(text)
    else:
        try:
            data = _yaml_data(text, lines)
        except _Refused as exc:
            raise SpecError(f"{shown}:{exc.line}: {exc}") from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            problem = shorten(str(exc.problem or exc.context or "invalid YAML"), 120)
            raise SpecError(f"{shown}:{line}: YAML syntax error: {problem}") from None
        except yaml.YAMLError as exc:  # ReaderError (control characters) and the like
            position = getattr(exc, "position", None)
            line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
            raise SpecError(
                f"{shown}:{line}: not readable as YAML ({type(exc).__name__}): remove control "
                "characters or save the file as UTF-8 text"
            ) from None
        except RecursionError:
            raise SpecError(too_deep) from None
    if not isinstance(data, dict):
        what = "is empty" if data is None else f"holds {describe(data)}"
        raise SpecError(f"{shown}:1: the file {what}: a spec is a mapping of keys to values")
    return data, SourceMap(path=path, lines=lines, text_hash=digest)


# --- validation ----------------------------------------------------------------------------------

_HINTS = {
    "solver profile": "docs/spec.md lists the profile keys",
    "cohort spec": "docs/cohort.md lists every key",
}


@functools.cache
def _vocabulary() -> tuple[str, ...]:
    """Every key name a spec model knows (for did-you-mean hints)."""
    from footdt.cohort.spec import CohortSpec
    from footdt.spec.profile import SolverProfile

    names: set[str] = set()
    seen: set[type] = set()

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp not in seen:
                seen.add(tp)
                for name, f in tp.model_fields.items():
                    names.add(name)
                    visit(f.annotation)
            return
        for arg in typing.get_args(tp):
            visit(arg)

    for model in (SubjectSpec, ExperimentSpec, SolverProfile, CohortSpec, Geometry):
        visit(model)
    return tuple(sorted(names))


def did_you_mean(key: Any, candidates: typing.Iterable[str] | None = None) -> str:
    """`` (did you mean 'x'?)`` for a misspelt key, else ``""``."""
    if not isinstance(key, str) or len(key) > 60:
        return ""
    pool = list(candidates) if candidates is not None else list(_vocabulary())
    close = difflib.get_close_matches(key, pool, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _message(err: Any, hint: str) -> str:
    """A pydantic error as a message that quotes at most an excerpt of the user's value."""
    kind, msg, ctx = err["type"], err["msg"], err.get("ctx") or {}
    given = err.get("input")
    if kind == "extra_forbidden":
        key = err["loc"][-1] if err["loc"] else None
        return f"unknown key{did_you_mean(key)}: check the spelling; {hint}"
    if kind == "missing":
        return f"missing: add this key ({hint})"
    if kind == "union_tag_invalid" and ctx.get("tag") == "None":
        return f"type: is empty: give one of {ctx.get('expected_tags', '')}"
    if kind == "union_tag_invalid":
        return (
            f"unknown {str(ctx.get('discriminator', 'type')).strip(chr(39))} "
            f"{excerpt(ctx.get('tag'))}; "
            f"use one of {ctx.get('expected_tags', '')}"
        )
    if kind == "union_tag_not_found":
        return (
            "needs a `type:` (box, cylinder, tube, box_with_inclusion, foot_template, surfaces "
            "or personalised)"
        )
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    if kind == "string_pattern_mismatch":
        return (
            "must be a name of letters, digits, '_', '.' and '-' (not starting with '.' or '-'), "
            f"got {describe(given)}"
        )
    if given is None:
        return "is empty: give a value or remove the key"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"holds at most {ctx.get('max_length')} items, got more"
    if kind.endswith("_type") or kind in ("literal_error", "enum", "bool_parsing", "path_type"):
        return f"{msg.rstrip('.')}, got {describe(given)}"
    return msg


def format_validation(
    exc: ValidationError, source: SourceMap, prefix: Loc = (), kind: str = "subject spec"
) -> SpecError:
    """One ``file:line: field: message`` line per error (at most ``MAX_ERRORS`` of them)."""
    hint = _HINTS.get(kind, "`footdt schema` lists every key")
    errors = exc.errors()
    lines = []
    for err in errors[:MAX_ERRORS]:
        loc = (*prefix, *[p for p in err["loc"] if not _is_union_tag(p)])
        message = _message(err, hint)
        loc, message = _keyed(loc, message, err.get("input"))
        lines.append(str(source.error(loc, message)))
    if len(errors) > MAX_ERRORS:
        lines.append(
            f"{source.display}: and {len(errors) - MAX_ERRORS} more error(s): fix the ones above first"
        )
    return SpecError("\n".join(lines))


_format_validation = format_validation


def _keyed(loc: Loc, message: str, given: Any) -> tuple[Loc, str]:
    """A validator's ``"name: ..."`` message about one key of a mapping points at that key:
    ``model.hyperparameters`` + ``"epochs: ..."`` -> ``model.hyperparameters.epochs``."""
    head, sep, rest = message.partition(": ")
    parts = head.split(".")
    if not sep or not all(re.fullmatch(r"[A-Za-z0-9_]{1,40}", p) for p in parts):
        return loc, message
    if isinstance(given, dict) and parts[0] in given:
        return (*loc, *parts), rest
    if isinstance(given, list) and parts[0].isdigit() and int(parts[0]) < len(given):
        keyed: list[str | int] = [int(p) if p.isdigit() else p for p in parts]
        return (*loc, *keyed), rest
    return loc, message


def _is_union_tag(part: Any) -> bool:
    """Pydantic puts discriminator tags (e.g. 'box') and 'function-after[...]' into locs."""
    return isinstance(part, str) and (
        part
        in (
            "box",
            "cylinder",
            "tube",
            "box_with_inclusion",
            "foot_template",
            "surfaces",
            "personalised",
        )
        or part.startswith("function-")
    )


M = TypeVar("M", bound=BaseModel)


def validate_model(model: type[M], data: Any, source: SourceMap, kind: str) -> M:
    """``model.model_validate(data)`` with errors as ``file:line: field: message`` lines."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise format_validation(exc, source, kind=kind) from None


def _keys_of(kind: str) -> set[str]:
    from footdt.cohort.spec import CohortSpec
    from footdt.spec.profile import SolverProfile

    models: dict[str, type[BaseModel]] = {
        "subject": SubjectSpec,
        "experiment": ExperimentSpec,
        "cohort": CohortSpec,
        "solver_profile": SolverProfile,
    }
    return set(models[kind].model_fields) - {"kind", "id", "description", "name"}


def guess_kind(data: dict[Any, Any], path: Path | None = None) -> str:
    """What a spec file is: its ``kind:``; without one, the kind whose keys it uses most (a
    misspelt key counts half for the kind it is close to); ``subject`` when nothing tells."""
    if "kind" in data:
        kind = data["kind"]
        return kind if isinstance(kind, str) else "?"
    if "backend" in data:
        return "solver_profile"
    keys = [k for k in list(data)[:50] if isinstance(k, str) and len(k) <= 60]
    best, best_score = "subject", 0.0
    for kind in ("subject", "experiment", "cohort", "solver_profile"):
        known = _keys_of(kind)
        score = sum(
            1.0 if k in known else 0.5 if difflib.get_close_matches(k, known, 1, 0.8) else 0.0
            for k in keys
        )
        if kind == "solver_profile" and path is not None and path.parent.name == "solvers":
            score += 0.5
        if score > best_score:
            best, best_score = kind, score
    return best


def validate_data(data: dict[str, Any], source: SourceMap) -> AnySpec:
    """A subject or experiment spec from parsed data; other kinds are named for what they are."""
    kind = guess_kind(data, source.path)
    if kind == "solver_profile":
        raise source.error(
            (),
            "this is a solver profile (solver keys, no `kind:`), not a subject or experiment "
            "spec: pass it with --profile",
        )
    if kind == "cohort":
        raise source.error(
            ("kind",) if "kind" in data else (),
            "this is a cohort spec, not a subject or experiment spec: use it with `footdt cohort "
            "generate`" + ("" if "kind" in data else " (and give it `kind: cohort`)"),
        )
    if kind == "subject":
        return validate_model(SubjectSpec, data, source, kind="subject spec")
    if kind == "experiment":
        return validate_model(ExperimentSpec, data, source, kind="experiment spec")
    if data.get("kind") is None:
        raise source.error(("kind",), "is empty: give subject, experiment or cohort")
    raise source.error(
        ("kind",),
        f"unknown spec kind {excerpt(data.get('kind'))}"
        f"{did_you_mean(data.get('kind'), ['subject', 'experiment', 'cohort'])}; "
        "use subject, experiment or cohort",
    )


def load_spec(path: str | Path) -> LoadedSpec:
    """Read, parse and validate one spec file. Raises ``SpecError`` with file:line on problems."""
    p = Path(path)
    data, source = read_data(p)
    spec = validate_data(data, source)
    return LoadedSpec(spec=spec, source=source)
