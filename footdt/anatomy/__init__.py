"""Foot anatomy: the built-in template, landmark and region definitions, user surfaces."""
