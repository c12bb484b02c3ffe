"""Field types shared by the spec models: numbers with units and physical bounds, names.

``quantity("MPa", gt=0, le=1e6)`` is a float field type that accepts only a finite number (not
text, not a boolean, not NaN or infinity) inside its bounds and says so with the unit:
``must be > 0 and <= 1e+06 MPa, got -5``. ``count(ge=1, le=10000)`` is the same for whole numbers
(``60.0`` is taken as 60; ``60.5`` is refused). The bounds also go into the JSON Schema
(``minimum``/``maximum`` and ``unit``).

Every bound is a physical or practical range, wide enough for any foot, any verification
primitive and any learning set-up footdt knows of; a value outside it is a typo or a unit slip
(metres for millimetres, grams for kilograms) far more often than a real model.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, JsonValue

from footdt.errors import excerpt

#: Lengths and coordinates (mm): 1 um to 10 m, points within 100 m of the origin.
MIN_LENGTH_MM, MAX_LENGTH_MM, MAX_COORD_MM = 1e-3, 1e4, 1e5


def _g(x: float) -> str:
    return f"{x:g}"


def describe(value: Any) -> str:
    """A short description of a wrong value: what it is, with an excerpt of it."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"the text {excerpt(value)}" if value else "an empty text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return excerpt(value)


def _bounds_text(gt: float | None, ge: float | None, lt: float | None, le: float | None) -> str:
    parts = []
    if gt is not None:
        parts.append(f"> {_g(gt)}")
    if ge is not None:
        parts.append(f">= {_g(ge)}")
    if lt is not None:
        parts.append(f"< {_g(lt)}")
    if le is not None:
        parts.append(f"<= {_g(le)}")
    return " and ".join(parts)


def _checker(
    unit: str,
    gt: float | None,
    ge: float | None,
    lt: float | None,
    le: float | None,
    integer: bool,
    hint: str,
) -> Any:
    u = f" {unit}" if unit and unit != "1" else ""
    what = "a whole number" if integer else "a number"
    rng = _bounds_text(gt, ge, lt, le)
    need = f"{what}{' ' + rng if rng else ''}{u}"
    tail = f"; {hint}" if hint else ""

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"must be {need}, got {describe(value)}{tail}")
        try:
            x = float(value)
        except (OverflowError, ValueError):
            raise ValueError(f"must be {need}, got a number too large{tail}") from None
        if not math.isfinite(x):
            raise ValueError(
                f"must be a finite number{f' ({unit})' if u else ''}, got {_g(x)}{tail}"
            )
        if integer and x != int(x):
            raise ValueError(f"must be {need}, got {_g(x)}{tail}")
        ok = (
            (gt is None or x > gt)
            and (ge is None or x >= ge)
            and (lt is None or x < lt)
            and (le is None or x <= le)
        )
        if not ok:
            raise ValueError(f"must be {rng}{u}, got {_g(x)}{u}{tail}")
        return int(x) if integer else x

    return check


def quantity(
    unit: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    hint: str = "",
) -> Any:
    """A float type: finite, within the bounds, in ``unit`` (``"1"`` for a ratio)."""
    return Annotated[
        float,
        BeforeValidator(_checker(unit, gt, ge, lt, le, False, hint)),
        Field(gt=gt, ge=ge, lt=lt, le=le, json_schema_extra={"unit": unit}),
    ]


def count(
    *,
    gt: int | None = None,
    ge: int | None = None,
    lt: int | None = None,
    le: int | None = None,
    unit: str = "",
    hint: str = "",
) -> Any:
    """An int type: a whole number within the bounds."""
    extra: dict[str, JsonValue] = {"unit": unit} if unit else {}
    return Annotated[
        int,
        BeforeValidator(_checker(unit, gt, ge, lt, le, True, hint)),
        Field(gt=gt, ge=ge, lt=lt, le=le, json_schema_extra=extra),
    ]


def check_number(
    value: Any,
    unit: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    integer: bool = False,
) -> Any:
    """Check one loose value (e.g. a hyperparameter) like a ``quantity``/``count`` field."""
    return _checker(unit, gt, ge, lt, le, integer, "")(value)


#: A name (of a part, surface, material, phase...): letters, digits, ``_ . -``.
Name = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
]


def _path_text(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("is an empty path: give a file name (relative to the spec file)")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("a path cannot hold a NUL character")
    if isinstance(value, str) and (
        len(value) > 4096 or any(len(part) > 255 for part in value.split("/"))
    ):
        raise ValueError(f"the path {excerpt(value)} is too long for a file name")
    return value


#: A file named by a spec (relative paths are resolved against the spec file's folder).
FilePath = Annotated[Path, BeforeValidator(_path_text)]

if TYPE_CHECKING:
    Length = float
    Coordinate = float
    Seed = int
else:
    Length = quantity("mm", ge=MIN_LENGTH_MM, le=MAX_LENGTH_MM)
    Coordinate = quantity("mm", ge=-MAX_COORD_MM, le=MAX_COORD_MM)
    #: A seed for a random generator (gmsh and TensorFlow take 31-bit seeds).
    Seed = count(ge=0, le=2**31 - 1)
Point = tuple[Coordinate, Coordinate, Coordinate]
