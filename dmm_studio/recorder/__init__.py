"""What the inspectors record while a network runs (no Qt here).

- ``probes.py``: ``ProbeSpec``, ``ProbeBuffer``, ``probe_value``.
- ``profiling.py``: ``NodeProfiler``, time per step per neuron.
- ``record.py``: ``Recorder`` (history, probes, breaks; moved between
  processes as packets), ``EngineTap``, ``BreakpointReached``, ``step_recorded``.
"""

from __future__ import annotations

from .probes import SIDES, ProbeBuffer, ProbeSpec, as_scalar, is_scalar_stream, probe_value
from .profiling import NodeProfiler
from .record import BreakpointReached, EngineTap, Recorder, step_recorded

__all__ = [
    "SIDES",
    "BreakpointReached",
    "EngineTap",
    "NodeProfiler",
    "ProbeBuffer",
    "ProbeSpec",
    "Recorder",
    "as_scalar",
    "is_scalar_stream",
    "probe_value",
    "step_recorded",
]
