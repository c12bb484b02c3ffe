"""The deck writer both dialects share: one method per deck section.

Both dialects share nodes, elements, sets, element-face surfaces, materials, solid sections, *TIE,
the step layout and the loads; each backend's writer (``AbaqusDeckWriter`` in
``footdt/backends/abaqus.py``, ``CalculixDeckWriter`` in ``footdt/backends/calculix.py``) writes
what its dialect says its own way: connectors, the step card, pressure removal and output requests.

Every step restates every load type with OP=NEW (also when the phase has none of that type), so
each step is an independent load case: nothing carries over from the previous phase.
Numbers are written with 12 significant digits, always with a decimal point or exponent and at
most 20 characters (ccx reads reals with an f20.0 format and tells *SPRING integers from reals by
the decimal point).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from footdt.backends.inp.deck import ALL_NODES, ALL_SOLIDS, UNITS, Deck, DeckConnector, DeckStep

_PER_LINE = 10  # labels per set data line (ccx lines are limited to 132 characters)


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
    """The sections both dialects write alike. A dialect's writer (a subclass, with its backend)
    sets ``dialect`` and implements ``connector``, ``step_card``, ``pressure`` and ``output``."""

    dialect: ClassVar[str]
    #: ``write(deck, active)`` takes the connectors in force per step (an active-set round).
    per_step_connectors: ClassVar[bool] = False

    def __init__(self, solver: str | None = None) -> None:
        self.solver = solver  # the dialect's linear solver card value, if it has one

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
            lines += [f"*SOLID SECTION, ELSET={part}, MATERIAL={material}", *self.section_data()]
        return lines

    def section_data(self) -> list[str]:
        """The data line of a *SOLID SECTION (none by default)."""
        return []

    def connectors(self, deck: Deck) -> list[str]:
        lines = self.connectors_note(deck)
        for i, c in enumerate(deck.connectors):
            lines.append(
                f"** connector {c.name}: law {c.law}, stiffness {fmt(c.stiffness)} N/mm, "
                f"length {fmt(c.length)} mm"
            )
            lines += self.connector(deck, i, c)
        return lines

    def connectors_note(self, deck: Deck) -> list[str]:
        """Comment lines before the connectors (none by default)."""
        return []

    def connector(self, deck: Deck, index: int, c: DeckConnector) -> list[str]:
        raise NotImplementedError  # pragma: no cover

    def ties(self, deck: Deck) -> list[str]:
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
        """One *STEP; ``active`` flags the connectors in force (``per_step_connectors`` only)."""
        lines = [f"** phase {index + 1} of {len(deck.steps)}: {step.name}"]
        lines += self.step_card(deck, step, active)
        lines += self.boundary(step) + self.connector_boundary(deck, active)
        lines += self.cload(step) + self.pressure(step) + self.output(deck)
        return [*lines, "*END STEP"]

    def step_card(self, deck: Deck, step: DeckStep, active: Sequence[bool] | None) -> list[str]:
        """Comments, *STEP and the procedure card."""
        raise NotImplementedError  # pragma: no cover

    def boundary(self, step: DeckStep) -> list[str]:
        return ["*BOUNDARY, OP=NEW"] + [
            f"{b.target}, {b.first}, {b.last}, {fmt(b.value)}" for b in step.boundaries
        ]

    def connector_boundary(self, deck: Deck, active: Sequence[bool] | None) -> list[str]:
        """*BOUNDARY data lines the dialect's connectors need in a step (none by default)."""
        return []

    def cload(self, step: DeckStep) -> list[str]:
        return ["*CLOAD, OP=NEW"] + [f"{n}, {d}, {fmt(f)}" for n, d, f in step.cloads]

    def pressure(self, step: DeckStep) -> list[str]:
        raise NotImplementedError  # pragma: no cover

    def output(self, deck: Deck) -> list[str]:
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------------------ whole deck
    def write(self, deck: Deck, active: Sequence[Sequence[bool]] | None = None) -> str:
        """The deck as text; ``active`` (``per_step_connectors`` writers): per step, the
        connectors in force."""
        if active is not None and not self.per_step_connectors:
            raise ValueError(
                f"the {self.dialect} writer takes no per-step connector sets (a writer that does "
                "takes one per step)"
            )
        if active is not None and len(active) != len(deck.steps):
            raise ValueError(
                f"{len(active)} connector sets for {len(deck.steps)} steps: one per step"
            )
        lines = self.header(deck) + self.nodes(deck) + self.elements(deck) + self.sets(deck)
        lines += self.surfaces(deck) + self.materials(deck) + self.sections(deck)
        lines += self.connectors(deck) + self.ties(deck)
        for i, step in enumerate(deck.steps):
            lines += self.step(deck, i, step, None if active is None else active[i])
        return "\n".join(lines) + "\n"
