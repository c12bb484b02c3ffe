"""Learning bone stress from two accelerometers, honestly.

- ``dataset``: IMU windows joined with labels; per-fold standardisation; subject-grouped splits.
- ``features`` / ``baselines``: simple IMU features; training mean, body-mass-scaled mean, ridge.
- ``architectures`` / ``dann`` / ``trainer``: the paper's six networks, gradient-reversal domain
  adaptation (transductive or inductive), one training loop.
- ``cv`` / ``tune`` / ``leakage``: nested leave-one-subject-out with Optuna inside the training
  subjects; checks that no held-out subject reaches training, tuning or scaling.
- ``interpret``: per-sensor permutation importance and attention weights.

Importing this package is cheap: TensorFlow, Keras and Optuna load inside the functions that use them.
"""

from __future__ import annotations
