"""Engines that run a network: the reference (the oracle) and faster ones.

``make_engine(name, state, ...)`` builds one by name; ``ENGINES`` lists them.
An engine's module is imported when its class is first looked up (the
compiled engine imports torch): ``import dmm_studio.engine`` does not.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .base import Engine, NetworkHalted, StepError, matrix_neurons, matrix_of

if TYPE_CHECKING:
    from .auto import AutoEngine, SlowPathWarning
    from .compiled import CompiledEngine
    from .reference import ReferenceEngine


class EngineTable(Mapping[str, type[Engine]]):
    """Engine classes by name; a class's module is imported on first lookup."""

    def __init__(self, where: Mapping[str, tuple[str, str]]) -> None:
        self._where = dict(where)  # name -> (module in this package, class)

    def __getitem__(self, name: str) -> type[Engine]:
        module, cls = self._where[name]
        found: type[Engine] = getattr(importlib.import_module(module, __name__), cls)
        return found

    def __contains__(self, name: object) -> bool:  # without importing the class
        return name in self._where

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


# "compiled" is AutoEngine: the compiled engine where it pays, the reference's code elsewhere
ENGINES: Mapping[str, type[Engine]] = EngineTable(
    {"reference": (".reference", "ReferenceEngine"), "compiled": (".auto", "AutoEngine")}
)
DEFAULT_ENGINE = "compiled"


_LAZY = {
    "AutoEngine": (".auto", "AutoEngine"),
    "SlowPathWarning": (".auto", "SlowPathWarning"),
    "CompiledEngine": (".compiled", "CompiledEngine"),
    "ReferenceEngine": (".reference", "ReferenceEngine"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module, __name__), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
