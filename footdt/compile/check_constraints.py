"""Pass 6: refuse models that can move as a rigid body (a part that floats in some phase).

The check itself lives with the IR's other invariants (``footdt.ir_validate``), which compile runs
at its end; this module keeps the pass's name.
"""

from __future__ import annotations

from footdt.ir_validate import check_constraints

__all__ = ["check_constraints"]
