"""The fork server's preload for SfePy's (and every other backend's) workers: everything
(``footdt.pipeline.preload.STACKS``)."""

from footdt.pipeline.preload import preload

preload("full")
