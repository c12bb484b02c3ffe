"""Load YAML/TOML spec files, validate them, and report errors as ``file:line: field: message``."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from footdt.errors import SpecError
from footdt.spec.experiment import ExperimentSpec
from footdt.spec.subject import SubjectSpec

Loc = tuple[str | int, ...]
AnySpec = SubjectSpec | ExperimentSpec


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

    def where(self, loc: Loc) -> str:
        return f"{self.path}:{self.line(loc)}"

    def error(self, loc: Loc, message: str) -> SpecError:
        dotted = ".".join(str(p) for p in loc)
        return SpecError(
            f"{self.where(loc)}: {dotted}: {message}" if dotted else f"{self.where(loc)}: {message}"
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
            raise SpecError(f"{self.source.path}: only subject specs have a mesh")
        update: dict[str, Any] = {}
        if size is not None:
            factor = size / spec.mesh.size
            update["size"] = size
            update["part_sizes"] = {k: v * factor for k, v in spec.mesh.part_sizes.items()}
        if order is not None:
            update["order"] = order
        mesh = spec.mesh.model_copy(update=update)
        return LoadedSpec(spec.model_copy(update={"mesh": mesh}), self.source)


def spec_hash(spec: BaseModel) -> str:
    from footdt.fileio import json_digest

    return json_digest(spec.model_dump(mode="json"))


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false, so `on:`, `yes`, `no` stay strings."""


_Yaml12Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _scalar(node: yaml.Node) -> Any:
    return yaml.load(yaml.serialize(node), Loader=_Yaml12Loader)


def _yaml_lines(node: yaml.Node, loc: Loc, out: dict[Loc, int]) -> Any:
    """Convert a composed YAML node to Python data while recording the line of every value."""
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        data: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in data:
                raise SpecError(f"LINE{key_node.start_mark.line + 1}: duplicate key {key!r}")
            out[(*loc, key)] = key_node.start_mark.line + 1
            data[key] = _yaml_lines(value_node, (*loc, key), out)
            out[(*loc, key)] = key_node.start_mark.line + 1
        return data
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_lines(item, (*loc, i), out) for i, item in enumerate(node.value)]
    return _scalar(node)


def _toml_lines(text: str, data: Any) -> dict[Loc, int]:
    """Best-effort line map for TOML (tomllib keeps no positions): find each key in order."""
    lines = text.splitlines()
    out: dict[Loc, int] = {}

    def find(key: str, start: int) -> int:
        pattern = re.compile(
            rf"^\s*(\[\[?\s*)?([\w.\-\"']*\.)?[\"']?{re.escape(key)}[\"']?\s*(=|\]|\.)"
        )
        for i in range(start, len(lines)):
            if pattern.search(lines[i]):
                return i
        return start

    def walk(value: Any, loc: Loc, start: int) -> None:
        if isinstance(value, dict):
            pos = start
            for key, sub in value.items():
                pos = find(str(key), start)
                out[(*loc, key)] = pos + 1
                walk(sub, (*loc, key), pos)
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                out[(*loc, i)] = start + 1
                walk(sub, (*loc, i), start)

    walk(data, (), 0)
    return out


def read_data(path: Path) -> tuple[Any, SourceMap]:
    """Parse a YAML or TOML file into Python data plus its line map."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from exc
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    lines: dict[Loc, int] = {}
    data: Any
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise SpecError(f"{path}:{m.group(1) if m else 1}: TOML syntax error: {exc}") from exc
        lines = _toml_lines(text, data)
    elif suffix in (".yaml", ".yml"):
        try:
            node = yaml.compose(text, Loader=_Yaml12Loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            raise SpecError(f"{path}:{line}: YAML syntax error: {exc.problem}") from exc
        try:
            data = _yaml_lines(node, (), lines) if node is not None else None
        except SpecError as exc:
            msg = str(exc)
            raise SpecError(re.sub(r"^LINE(\d+)", lambda m: f"{path}:{m.group(1)}", msg)) from exc
    else:
        raise SpecError(f"{path}: unknown spec format {suffix!r}; use .yaml, .yml or .toml")
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1: a spec must be a mapping of keys to values")
    return data, SourceMap(path=path, lines=lines, text_hash=digest)


def _format_validation(exc: ValidationError, source: SourceMap, prefix: Loc = ()) -> SpecError:
    lines = []
    for err in exc.errors():
        loc = (*prefix, *[p for p in err["loc"] if not _is_union_tag(p)])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; `footdt schema` lists the allowed keys)"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        lines.append(str(source.error(loc, msg)))
    return SpecError("\n".join(lines))


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


def validate_data(data: dict[str, Any], source: SourceMap) -> AnySpec:
    kind = data.get("kind", "subject")
    model: type[BaseModel]
    if kind == "subject":
        model = SubjectSpec
    elif kind == "experiment":
        model = ExperimentSpec
    else:
        raise source.error(("kind",), f"unknown spec kind {kind!r}; use 'subject' or 'experiment'")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _format_validation(exc, source) from exc


def load_spec(path: str | Path) -> LoadedSpec:
    """Read, parse and validate one spec file. Raises ``SpecError`` with file:line on problems."""
    p = Path(path)
    data, source = read_data(p)
    spec = validate_data(data, source)
    return LoadedSpec(spec=spec, source=source)
