"""DMM Studio: build, run and understand Dataflow Matrix Machines.

The core (this package without ``gui``) never imports Qt: it runs in a
notebook or a headless job.

    >>> import dmm_studio as dmm
    >>> net = dmm.load("examples/waves.dmm.json")
    >>> m = net.machine()
    >>> m.step(4)
    >>> m.matrix
"""

from __future__ import annotations

from .engine import ENGINES, Engine, NetworkHalted, StepError, make_engine
from .fileformat import NetworkFileError, TraceWriter, load_network, read_trace, save_network
from .machine import Machine
from .network import Network
from .registry import NeuronType, Registry, default_registry, neuron
from .vvalue import add, canon, equal, max_norm, mult_mask, scale

__version__ = "0.1.0"

load = load_network

__all__ = [
    "ENGINES",
    "Engine",
    "Machine",
    "Network",
    "NetworkFileError",
    "NetworkHalted",
    "NeuronType",
    "Registry",
    "StepError",
    "TraceWriter",
    "add",
    "canon",
    "default_registry",
    "equal",
    "load",
    "load_network",
    "make_engine",
    "max_norm",
    "mult_mask",
    "neuron",
    "read_trace",
    "save_network",
    "scale",
]
