"""The trained digital twin applied to new recordings: predictions, intervals, OOD flags, damage."""
