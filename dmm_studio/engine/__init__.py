"""Engines that run a network: the reference (the oracle) and faster ones.

``make_engine(name, state, ...)`` builds one by name; ``ENGINES`` lists them.
"""

from __future__ import annotations

from typing import Any

from .auto import AutoEngine, SlowPathWarning
from .base import Engine, NetworkHalted, StepError, matrix_neurons, matrix_of
from .compiled import CompiledEngine
from .reference import ReferenceEngine

# "compiled" is AutoEngine: the compiled engine where it pays, the reference's code elsewhere
ENGINES: dict[str, type[Engine]] = {"reference": ReferenceEngine, "compiled": AutoEngine}
DEFAULT_ENGINE = "compiled"


def make_engine(name: str | None, state: Any, **kwargs: Any) -> Engine:
    """An engine by name (``None`` for the default)."""
    name = name or DEFAULT_ENGINE
    try:
        cls = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r} (one of {', '.join(sorted(ENGINES))})") from None
    return cls(state, **kwargs)


__all__ = [
    "AutoEngine",
    "SlowPathWarning",
    "ENGINES",
    "DEFAULT_ENGINE",
    "CompiledEngine",
    "Engine",
    "NetworkHalted",
    "ReferenceEngine",
    "StepError",
    "make_engine",
    "matrix_neurons",
    "matrix_of",
]
