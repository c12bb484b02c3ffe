"""Reading CalculiX ``.dat`` result tables (``*EL PRINT``, ``*NODE PRINT``): pure Python, no ccx."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADER = re.compile(
    r"^\s*([a-z][a-z ]*?)\s*\(([^)]*)\)\s*for set\s+(\S+)\s+and time\s+(\S+)", re.I
)
# Fortran reals, also with a 3-digit exponent printed without 'E' (1.000000-100) and glued together.
_REAL = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+)(?:[EeDd][-+]?\d+|[-+]\d{3})?|[-+]?\d+")


@dataclass
class DatBlock:
    """One table of a ccx .dat file: ``kind`` (displacements, forces, stresses, volume...), set, time."""

    kind: str
    set: str
    time: float
    rows: list[list[float]] = field(default_factory=list)


def _real(token: str) -> float:
    t = token.upper().replace("D", "E")
    m = re.match(r"^([-+]?(?:\d+\.\d*|\.\d+))([-+]\d{3})$", t)
    return float(f"{m.group(1)}E{m.group(2)}") if m else float(t)


def parse_dat(text: str) -> list[DatBlock]:
    """All result tables of a ccx .dat text, in file order (rows as floats, labels included)."""
    blocks: list[DatBlock] = []
    current: DatBlock | None = None
    for line in text.splitlines():
        head = _HEADER.match(line)
        if head:
            current = DatBlock(
                head.group(1).strip().lower(), head.group(3).upper(), _real(head.group(4))
            )
            blocks.append(current)
        elif current is not None and line.strip():
            tokens = _REAL.findall(line)
            if not tokens or not re.match(r"^\s*\d", line):
                current = None  # a text line ends the table
                continue
            current.rows.append([_real(t) for t in tokens])
    return blocks
