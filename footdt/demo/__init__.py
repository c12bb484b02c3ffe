"""``footdt demo``: a small synthetic cohort through every stage of the digital twin.

verification -> cohort -> FE (compile, solve, labels) -> pictures -> train -> evaluate -> a new
runner -> ``footdt predict`` -> its own FE solve -> HTML report. ``footdt.demo.run.run_demo``
runs them; each module here is one group of stages. Nothing is imported eagerly.
"""
