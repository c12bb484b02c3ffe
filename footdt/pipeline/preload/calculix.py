"""The fork server's preload for calculix workers (``footdt.pipeline.preload.STACKS``)."""

from footdt.pipeline.preload import preload

preload("calculix")
