"""DMM Studio: build, run and understand Dataflow Matrix Machines.

The core (this package without ``gui``) never imports Qt: it runs in a
notebook or a headless job.

    >>> import dmm_studio as dmm
    >>> net = dmm.load("examples/waves.dmm.json")
    >>> m = net.machine()
    >>> m.step(4)
    >>> m.matrix

The names below are imported on first use (PEP 562): ``import dmm_studio``,
``dmm_studio.vvalue``, ``dmm_studio.network`` and ``dmm_studio.fileformat``
never import torch; the engines do, when a machine is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, attribute in it)
_EXPORTS: dict[str, tuple[str, str]] = {
    "ENGINES": ("engine", "ENGINES"),
    "Engine": ("engine", "Engine"),
    "NetworkHalted": ("engine", "NetworkHalted"),
    "StepError": ("engine", "StepError"),
    "make_engine": ("engine", "make_engine"),
    "NetworkFileError": ("fileformat", "NetworkFileError"),
    "TraceWriter": ("fileformat", "TraceWriter"),
    "load": ("fileformat", "load_network"),
    "load_network": ("fileformat", "load_network"),
    "read_trace": ("fileformat", "read_trace"),
    "save_network": ("fileformat", "save_network"),
    "Machine": ("machine", "Machine"),
    "Network": ("network", "Network"),
    "NeuronType": ("registry", "NeuronType"),
    "Registry": ("registry", "Registry"),
    "default_registry": ("registry", "default_registry"),
    "neuron": ("registry", "neuron"),
    "add": ("vvalue", "add"),
    "canon": ("vvalue", "canon"),
    "equal": ("vvalue", "equal"),
    "max_norm": ("vvalue", "max_norm"),
    "mult_mask": ("vvalue", "mult_mask"),
    "scale": ("vvalue", "scale"),
    "train": ("learn", "train"),
    "TrainTask": ("learn", "TrainTask"),
}

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
    "TrainTask",
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
    "train",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'dmm_studio' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # what type checkers and editors see
    from .engine import ENGINES, Engine, NetworkHalted, StepError, make_engine
    from .fileformat import NetworkFileError, TraceWriter, load_network, read_trace, save_network
    from .fileformat import load_network as load
    from .learn import TrainTask, train
    from .machine import Machine
    from .network import Network
    from .registry import NeuronType, Registry, default_registry, neuron
    from .vvalue import add, canon, equal, max_norm, mult_mask, scale
