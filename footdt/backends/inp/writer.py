"""Write a ``Deck`` as an Abaqus or CalculiX input file: one method per deck section.

Both dialects share nodes, elements, sets, element-face surfaces, materials, solid sections, *TIE
and the step layout. They differ in connectors, pressure removal and output requests:

* Abaqus: CONN3D2 connector elements (AXIAL for linear and tension-only, SLIPRING for slip rings),
  ``*DSLOAD, OP=NEW``, field output S at the centroid, EVOL, U and RF for the extraction script.
* CalculiX: SPRINGA elements with ``*SPRING`` (linear, or a force-elongation table for tension-only
  inside an NLGEOM step); no CONN3D2, ENCASTRE or MISES ever. Pressures are removed with
  ``*DLOAD, OP=NEW`` (ccx reads *DLOAD and *DSLOAD into one table and OP=NEW on the first card of
  a step clears it) and written with ``*DSLOAD surface, P, value``; ``*EL PRINT`` S and EVOL per
  part and ``*NODE PRINT`` U and RF go to the .dat file.

Every step restates every load type with OP=NEW (also when the phase has none of that type), so
each step is an independent load case: nothing carries over from the previous phase.
Numbers are written with 12 significant digits, always with a decimal point or exponent and at
most 20 characters (ccx reads reals with an f20.0 format and tells *SPRING integers from reals by
the decimal point).
"""

from __future__ import annotations

from collections.abc import Iterable

from footdt.backends.inp.deck import (
    ALL_NODES,
    ALL_SOLIDS,
    UNITS,
    Deck,
    DeckConnector,
    DeckStep,
    Dialect,
)
from footdt.errors import UnsupportedFeature

_PER_LINE = 10  # labels per set data line (ccx lines are limited to 132 characters)
#: ccx *STATIC SOLVER= value for each profile linear_solver accepted by the calculix dialect.
CCX_SOLVERS = {
    "default": "SPOOLES",
    "spooles": "SPOOLES",
    "iterative_cholesky": "ITERATIVE CHOLESKY",
}
#: Tension-only force-elongation table range, in units of the connector length.
_SLACK_RANGE, _TAUT_RANGE = 0.5, 10.0


def fmt(x: float) -> str:
    """A real number as a deck field: 12 significant digits, a '.' or exponent, <= 20 characters."""
    s = f"{float(x):.12g}"
    if not any(c in s for c in ".en"):
        s += "."
    return s


def _labels(labels: Iterable[int]) -> list[str]:
    arr = [str(int(v)) for v in labels]
    return [", ".join(arr[i : i + _PER_LINE]) for i in range(0, len(arr), _PER_LINE)]


class DeckWriter:
    """Writes one dialect. ``solver`` is the ccx *STATIC SOLVER value (CalculiX dialect only)."""

    def __init__(self, dialect: Dialect, solver: str | None = None) -> None:
        if dialect not in ("abaqus", "calculix"):
            raise ValueError(f"unknown deck dialect {dialect!r}")
        self.dialect = dialect
        self.solver = solver

    # ------------------------------------------------------------------ model data
    def header(self, deck: Deck) -> list[str]:
        return [
            f"** footdt {deck.footdt_version} input deck, {self.dialect} dialect",
            f"** subject: {deck.subject}  trial: {deck.trial}",
            f"** spec hash: {deck.spec_hash}",
            f"** model content hash: {deck.model_hash}",
            f"** units: {UNITS}",
            "** phases are independent load cases: every step restates all loads with OP=NEW",
            "*HEADING",
            f"footdt model_hash={deck.model_hash} subject={deck.subject} trial={deck.trial}",
        ]

    def nodes(self, deck: Deck) -> list[str]:
        lines = ["*NODE"]
        lines += [
            f"{i + 1}, {fmt(x)}, {fmt(y)}, {fmt(z)}" for i, (x, y, z) in enumerate(deck.nodes)
        ]
        return [*lines, f"*NSET, NSET={ALL_NODES}, GENERATE", f"1, {len(deck.nodes)}, 1"]

    def elements(self, deck: Deck) -> list[str]:
        lines = [f"*ELEMENT, TYPE={deck.element_type}, ELSET={ALL_SOLIDS}"]
        lines += [
            f"{i + 1}, " + ", ".join(map(str, row)) for i, row in enumerate(deck.elements.tolist())
        ]
        return lines

    def sets(self, deck: Deck) -> list[str]:
        lines: list[str] = []
        for name, labels in deck.elsets.items():
            lines += [f"*ELSET, ELSET={name}", *_labels(labels)]
        for name, labels in deck.nsets.items():
            lines += [f"*NSET, NSET={name}", *_labels(labels)]
        return lines

    def surfaces(self, deck: Deck) -> list[str]:
        lines: list[str] = []
        for name, faces in deck.surfaces.items():
            lines.append(f"*SURFACE, NAME={name}, TYPE=ELEMENT")
            lines += [f"{e}, S{f}" for e, f in faces.tolist()]
        return lines

    def materials(self, deck: Deck) -> list[str]:
        lines: list[str] = []
        for name, (E, nu) in deck.materials.items():
            lines += [f"*MATERIAL, NAME={name}", "*ELASTIC", f"{fmt(E)}, {fmt(nu)}"]
        return lines

    def sections(self, deck: Deck) -> list[str]:
        lines: list[str] = []
        for part, material in deck.sections.items():
            lines.append(f"*SOLID SECTION, ELSET={part}, MATERIAL={material}")
            if self.dialect == "abaqus":
                lines.append(",")
        return lines

    def connectors(self, deck: Deck) -> list[str]:
        lines: list[str] = []
        for c in deck.connectors:
            lines.append(
                f"** connector {c.name}: law {c.law}, stiffness {fmt(c.stiffness)} N/mm, "
                f"length {fmt(c.length)} mm"
            )
            lines += self._abaqus_connector(c) if self.dialect == "abaqus" else self._ccx_spring(c)
        return lines

    def _abaqus_connector(self, c: DeckConnector) -> list[str]:
        """CONN3D2 elements.

        linear -> AXIAL with *CONNECTOR ELASTICITY (k in N/mm on the change of length).
        tension_only -> AXIAL with NONLINEAR elasticity (force, elongation) pairs: zero force for
        any shortening, k per mm of lengthening, linearly extrapolated (EXTRAPOLATION=LINEAR).
        Chosen over T3D2 + *NO COMPRESSION because the stiffness is given directly in N/mm (no
        invented area and modulus), it uses the same element as the other laws, and the step stays
        a general (iterated) static step.
        slip_ring -> SLIPRING; its component 1 elasticity relates the belt force to the belt strain,
        so the stiffness is written as k * L0 (N per unit strain). Material flow (dof 10) is fixed
        at belt ends (nodes used by one slip-ring connector) in every step, free where two meet.
        """
        beh = f"{c.elset}_B"
        kind = "SLIPRING" if c.law == "slip_ring" else "AXIAL"
        lines = [
            f"*ELEMENT, TYPE=CONN3D2, ELSET={c.elset}",
            f"{c.label}, {c.node_a}, {c.node_b}",
            f"*CONNECTOR SECTION, ELSET={c.elset}, BEHAVIOR={beh}",
            f"{kind},",
        ]
        if c.law == "tension_only":
            L = c.length
            return [
                *lines,
                f"*CONNECTOR BEHAVIOR, NAME={beh}, EXTRAPOLATION=LINEAR",
                "*CONNECTOR ELASTICITY, NONLINEAR, COMPONENT=1",
                f"0., {fmt(-L)}",
                "0., 0.",
                f"{fmt(c.stiffness * L)}, {fmt(L)}",
            ]
        k = c.stiffness * c.length if c.law == "slip_ring" else c.stiffness
        return [
            *lines,
            f"*CONNECTOR BEHAVIOR, NAME={beh}",
            "*CONNECTOR ELASTICITY, COMPONENT=1",
            f"{fmt(k)},",
        ]

    def _ccx_spring(self, c: DeckConnector) -> list[str]:
        """SPRINGA elements: F = k (L - L0) along the current axis.

        tension_only -> *SPRING, NONLINEAR with (force, elongation) pairs: zero force from -0.5 L0
        to 0, then k per mm up to 10 L0 (ccx keeps the force constant outside the table, so the
        table spans far beyond any physical elongation). Needs a nonlinear step (NLGEOM).
        """
        if c.law == "slip_ring":
            raise UnsupportedFeature(
                f"connector {c.name!r} is a slip ring: CalculiX has no slip-ring element; use --backend abaqus"
            )
        lines = [f"*ELEMENT, TYPE=SPRINGA, ELSET={c.elset}", f"{c.label}, {c.node_a}, {c.node_b}"]
        if c.law == "linear":
            return [*lines, f"*SPRING, ELSET={c.elset}", "", fmt(c.stiffness)]
        lo, hi = -_SLACK_RANGE * c.length, _TAUT_RANGE * c.length
        return [
            *lines,
            f"*SPRING, ELSET={c.elset}, NONLINEAR",
            "",
            f"0., {fmt(lo)}",
            "0., 0.",
            f"{fmt(c.stiffness * hi)}, {fmt(hi)}",
        ]

    def ties(self, deck: Deck) -> list[str]:
        """*TIE (slave, master element-face surfaces). Abaqus only: ccx 2.20's *TIE did not carry a
        uniform stress across a 2:3 non-matching C3D4 interface (15 % error in sigma_zz, exact for
        2:2 and 2:4), so the CalculiX dialect refuses ties rather than write an unverified one."""
        if deck.ties and self.dialect == "calculix":
            raise UnsupportedFeature(
                f"tie {deck.ties[0].name!r}: footdt does not write *TIE for CalculiX (not verified on "
                "non-matching meshes); use --backend abaqus or a conforming mesh"
            )
        lines: list[str] = []
        for t in deck.ties:
            lines += [
                f"*TIE, NAME={t.name}, POSITION TOLERANCE={fmt(t.tolerance)}, ADJUST=NO",
                f"{t.slave}, {t.master}",
            ]
        return lines

    # ------------------------------------------------------------------ history data
    def step(self, deck: Deck, index: int, step: DeckStep) -> list[str]:
        nl = deck.nonlinear
        lines = [f"** phase {index + 1} of {len(deck.steps)}: {step.name}"]
        if nl and self.dialect == "abaqus":
            lines.append(
                "** tension-only connectors: nonlinear, solved by the iterations of a general step"
            )
        elif nl:
            lines.append(
                "** tension-only springs: ccx iterates nonlinear springs only in NLGEOM steps"
            )
        if self.dialect == "abaqus":
            lines += [
                f"*STEP, NAME={step.name}, NLGEOM=NO, INC=1000",
                "*STATIC",
                "1., 1., 1e-05, 1.",
            ]
        else:
            lines.append("*STEP, NLGEOM, INC=1000" if nl else "*STEP")
            lines.append("*STATIC" + (f", SOLVER={self.solver}" if self.solver else ""))
            if nl:
                lines.append("0.1, 1., 1e-05, 0.25")
        lines += (
            self.boundary(step) + self.cload(step) + self.pressure(step) + self.output(deck, nl)
        )
        return [*lines, "*END STEP"]

    def boundary(self, step: DeckStep) -> list[str]:
        return ["*BOUNDARY, OP=NEW"] + [
            f"{b.target}, {b.first}, {b.last}, {fmt(b.value)}" for b in step.boundaries
        ]

    def cload(self, step: DeckStep) -> list[str]:
        return ["*CLOAD, OP=NEW"] + [f"{n}, {d}, {fmt(f)}" for n, d, f in step.cloads]

    def pressure(self, step: DeckStep) -> list[str]:
        data = [f"{s}, P, {fmt(p)}" for s, p in step.pressures]
        if self.dialect == "abaqus":
            return ["*DSLOAD, OP=NEW", *data]
        return ["*DLOAD, OP=NEW"] + (["*DSLOAD", *data] if data else [])

    def output(self, deck: Deck, nonlinear: bool) -> list[str]:
        if self.dialect == "abaqus":
            return [
                "*OUTPUT, FIELD",
                "*ELEMENT OUTPUT, POSITION=CENTROIDAL",
                "S,",
                "*ELEMENT OUTPUT",
                "EVOL,",
                "*NODE OUTPUT",
                "U, RF",
            ]
        freq = ", FREQUENCY=1000000" if nonlinear else ""  # final increment only
        lines = [f"*NODE PRINT, NSET={ALL_NODES}{freq}", "U, RF"]
        for part in deck.elsets:
            lines += [f"*EL PRINT, ELSET={part}{freq}", "S, EVOL"]
        return lines

    # ------------------------------------------------------------------ whole deck
    def write(self, deck: Deck) -> str:
        lines = self.header(deck) + self.nodes(deck) + self.elements(deck) + self.sets(deck)
        lines += self.surfaces(deck) + self.materials(deck) + self.sections(deck)
        lines += self.connectors(deck) + self.ties(deck)
        for i, step in enumerate(deck.steps):
            lines += self.step(deck, i, step)
        return "\n".join(lines) + "\n"
