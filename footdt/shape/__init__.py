"""Personalised foot shapes: statistical shape model (SSM), measurements, scan fitting, FFD morphing."""
