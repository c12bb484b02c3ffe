"""Write a ``Deck`` as an Abaqus or CalculiX input file: one method per deck section.

Both dialects share nodes, elements, sets, element-face surfaces, materials, solid sections, *TIE
and the step layout. They differ in connectors, pressure removal and output requests:

* Abaqus: CONN3D2 connector elements (AXIAL for linear and tension-only, SLIPRING for slip rings),
  ``*DSLOAD, OP=NEW``, field output S at the centroid and EVOL of the solid elements
  (``ELSET=FOOTDT_ALL_SOLIDS``: connector elements have neither), U and RF for the extraction
  script. Each step runs over a time period of ``STEP_TIME``; the extraction reads its last frame,
  and ``read_abaqus_json`` refuses a frame that did not reach it (a run stopped mid-step).
  Abaqus's AXIAL connector acts along the line between its nodes in the *current* geometry
  (also with NLGEOM=NO), the other backends along the original one: see docs/backends.md.
* CalculiX: each connector is the exact small-displacement axial spring k n n^T (n from the
  original geometry): an auxiliary node p whose dof 1 an *EQUATION ties to the elongation
  n . (u_b - u_a), and a SPRING2 element (stiffness k) from p dof 1 to a ground node q dof 1.
  q dof 1 is fixed in a step where the connector is active and free where it is not (a tension-only
  connector switched off by the active-set loop of ``CalculixBackend``); no SPRINGA, no NLGEOM,
  no CONN3D2, ENCASTRE or MISES ever. Pressures are removed with ``*DLOAD, OP=NEW`` (ccx reads
  *DLOAD and *DSLOAD into one table and OP=NEW on the first card of a step clears it) and written
  with ``*DSLOAD surface, P, value``; ``*EL PRINT`` S and EVOL per part and ``*NODE PRINT`` U and
  RF go to the .dat file.

Every step restates every load type with OP=NEW (also when the phase has none of that type), so
each step is an independent load case: nothing carries over from the previous phase.
Numbers are written with 12 significant digits, always with a decimal point or exponent and at
most 20 characters (ccx reads reals with an f20.0 format and tells *SPRING integers from reals by
the decimal point).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

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
#: Time period (s) of every *STATIC step: a step has ended when its last frame reaches it.
STEP_TIME = 1.0
#: Direction cosines at or below this size are left out of a connector's *EQUATION.
_COEF_EPS = 1e-12


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
        if self.dialect == "calculix" and deck.nonlinear:
            lines += [
                "** tension-only connectors: each step below has every connector active; footdt's",
                "** active-set loop (footdt solve) reruns the steps whose connectors are compressed",
                "** with those switched off (ground node dof 1 freed), until no connector changes",
            ]
        for i, c in enumerate(deck.connectors):
            lines.append(
                f"** connector {c.name}: law {c.law}, stiffness {fmt(c.stiffness)} N/mm, "
                f"length {fmt(c.length)} mm"
            )
            if self.dialect == "abaqus":
                lines += self._abaqus_connector(c)
            else:
                lines += self._ccx_spring(deck, i, c)
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

    def _ccx_spring(self, deck: Deck, index: int, c: DeckConnector) -> list[str]:
        """The exact linear axial spring k n n^T (n = unit vector a -> b, original geometry).

        Auxiliary nodes p and q (labels ``ccx_aux_nodes``, at the connector's midpoint): an
        *EQUATION makes u_p1 = n . (u_b - u_a), the elongation (p dof 1 is its dependent dof and
        appears nowhere else); a SPRING2 element of stiffness k joins p dof 1 to q dof 1, so with
        q dof 1 fixed the energy is k e^2 / 2. Dofs 2 and 3 of p and q are fixed in every step.
        """
        if c.law == "slip_ring":
            raise UnsupportedFeature(
                f"connector {c.name!r} is a slip ring: CalculiX has no slip-ring element; use --backend abaqus"
            )
        p, q = ccx_aux_nodes(deck, index)
        xa, xb = deck.nodes[c.node_a - 1], deck.nodes[c.node_b - 1]
        n = (xb - xa) / np.linalg.norm(xb - xa)
        mid = ", ".join(fmt(v) for v in 0.5 * (xa + xb))
        terms = [(p, 1, 1.0)]
        terms += [(c.node_b, d + 1, -float(n[d])) for d in range(3) if abs(n[d]) > _COEF_EPS]
        terms += [(c.node_a, d + 1, float(n[d])) for d in range(3) if abs(n[d]) > _COEF_EPS]
        eq = [", ".join(f"{node}, {dof}, {fmt(v)}" for node, dof, v in terms[i : i + 4])
              for i in range(0, len(terms), 4)]  # fmt: skip
        return [
            "*NODE",
            f"{p}, {mid}",
            f"{q}, {mid}",
            f"*ELEMENT, TYPE=SPRING2, ELSET={c.elset}",
            f"{c.label}, {p}, {q}",
            f"*SPRING, ELSET={c.elset}",
            "1, 1",
            fmt(c.stiffness),
            "*EQUATION",
            str(len(terms)),
            *eq,
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
    def step(
        self, deck: Deck, index: int, step: DeckStep, active: Sequence[bool] | None = None
    ) -> list[str]:
        """One *STEP; ``active`` (CalculiX only) flags the connectors in force (default: all)."""
        nl = deck.nonlinear
        lines = [f"** phase {index + 1} of {len(deck.steps)}: {step.name}"]
        if self.dialect == "abaqus":
            if nl:
                lines.append(
                    "** tension-only connectors: nonlinear elasticity, small displacements "
                    "(NLGEOM=NO), iterated in a general step"
                )
            lines += [
                f"*STEP, NAME={step.name}, NLGEOM=NO, INC=1000",
                "*STATIC",
                f"{fmt(STEP_TIME)}, {fmt(STEP_TIME)}, 1e-05, {fmt(STEP_TIME)}",
            ]
        else:
            flags = [True] * len(deck.connectors) if active is None else list(active)
            if len(flags) != len(deck.connectors):
                raise ValueError(f"{len(flags)} active flags for {len(deck.connectors)} connectors")
            off = [c.name for c, on in zip(deck.connectors, flags, strict=True) if not on]
            if off:
                lines.append(f"** connectors switched off in this step: {', '.join(off)}")
            lines += ["*STEP", "*STATIC" + (f", SOLVER={self.solver}" if self.solver else "")]
        lines += self.boundary(step)
        if self.dialect == "calculix":
            for i, on in enumerate(flags):
                p, q = ccx_aux_nodes(deck, i)
                lines += [f"{p}, 2, 3, 0.", f"{q}, {1 if on else 2}, 3, 0."]
        lines += self.cload(step) + self.pressure(step) + self.output(deck)
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

    def output(self, deck: Deck) -> list[str]:
        if self.dialect == "abaqus":
            return [  # S and EVOL on the solid elements only: connectors have neither
                "*OUTPUT, FIELD",
                f"*ELEMENT OUTPUT, ELSET={ALL_SOLIDS}, POSITION=CENTROIDAL",
                "S,",
                f"*ELEMENT OUTPUT, ELSET={ALL_SOLIDS}",
                "EVOL,",
                "*NODE OUTPUT",
                "U, RF",
            ]
        lines = [f"*NODE PRINT, NSET={ALL_NODES}", "U, RF"]
        for part in deck.elsets:
            lines += [f"*EL PRINT, ELSET={part}", "S, EVOL"]
        return lines

    # ------------------------------------------------------------------ whole deck
    def write(self, deck: Deck, active: Sequence[Sequence[bool]] | None = None) -> str:
        """The deck as text; ``active`` (CalculiX only): per step, the connectors in force."""
        if active is not None and (self.dialect != "calculix" or len(active) != len(deck.steps)):
            raise ValueError("per-step connector sets need the calculix dialect and one per step")
        lines = self.header(deck) + self.nodes(deck) + self.elements(deck) + self.sets(deck)
        lines += self.surfaces(deck) + self.materials(deck) + self.sections(deck)
        lines += self.connectors(deck) + self.ties(deck)
        for i, step in enumerate(deck.steps):
            lines += self.step(deck, i, step, None if active is None else active[i])
        return "\n".join(lines) + "\n"


def ccx_aux_nodes(deck: Deck, index: int) -> tuple[int, int]:
    """Labels of the auxiliary nodes (p: elongation, q: ground) of connector ``index`` (0-based),
    numbered after the model's nodes."""
    first = len(deck.nodes) + 2 * index + 1
    return first, first + 1
