"""Evaluation of a cross-validation run: metrics (``metrics``), group statistics (``stats``),
figures (``figures``), Table 1 and the HTML report (``report``), the whole pipeline (``run``).

Importing this package is cheap; pandas, SciPy's statistics and matplotlib load on use.
"""

from __future__ import annotations
