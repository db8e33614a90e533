"""Sweeps: many runs of one network over a grid or random points (issue 14).

``load_spec(path)`` reads a ``*.sweep.json``; ``Sweep(spec, out).run()``
runs every point (on Ray when it is installed, else one by one here) and
writes one row per run to ``out/runs.csv``. See docs/sweeps.md.
"""

from .run import RUNS_FILE, Sweep, SweepOutError, ray_available, read_rows, run_point
from .spec import SweepSpec, SweepSpecError, load_spec, spec_from_json

__all__ = [
    "RUNS_FILE",
    "Sweep",
    "SweepOutError",
    "SweepSpec",
    "SweepSpecError",
    "load_spec",
    "ray_available",
    "read_rows",
    "run_point",
    "spec_from_json",
]
