"""The fork server's preload for native workers (``footdt.pipeline.preload.STACKS``)."""

from footdt.pipeline.preload import preload

preload("native")
