"""Per-neuron timing: ``NodeProfiler`` (milliseconds a step per neuron) and
the registry wrapper that times each type's function into it. No Qt here.
"""

from __future__ import annotations

import functools
import time
from dataclasses import replace
from typing import Any

from ..engine.base import Engine
from ..matrix import NeuronId, matrix_neurons


class NodeProfiler:
    """Time per step per neuron, measured around each neuron's function.

    The reference engine calls ``registry.get(type).call(...)`` once per
    active neuron, in the order of ``matrix_neurons(W_t)``; the profiler
    wraps each type's function with a timer and names the i-th call of a
    step by that order. When the calls do not follow it (the compiled engine
    computes a type once for all its instances), the time goes to
    ``(type, "*")``: per type, not per neuron.
    """

    def __init__(self) -> None:
        self._acc: dict[NeuronId, float] = {}
        self._steps = 0
        self._order: list[NeuronId] = []
        self._i = 0
        self._since = time.perf_counter()

    def begin_step(self, engine: Engine) -> None:
        self._order = list(matrix_neurons(engine.matrix()))
        self._i = 0

    def end_step(self) -> None:
        self._steps += 1

    def record(self, type: str, seconds: float, batched: bool = False) -> None:
        i = self._i
        if not batched and i < len(self._order) and self._order[i][0] == type:
            key = self._order[i]
            self._i = i + 1
        else:
            key = (type, "*")
        self._acc[key] = self._acc.get(key, 0.0) + seconds

    def take(self) -> tuple[dict[NeuronId, float], int]:
        """``({neuron: seconds}, steps)`` since the last take (and start afresh)."""
        acc, steps = self._acc, self._steps
        self._acc, self._steps = {}, 0
        return acc, steps

    def costs(self) -> dict[NeuronId, float]:
        """Milliseconds per step per neuron since the last take."""
        acc, steps = self.take()
        return {k: 1000.0 * v / steps for k, v in acc.items()} if steps else {}


class _TimingRegistry:
    """A registry whose types time their function into a NodeProfiler."""

    def __init__(self, base: Any, profiler: NodeProfiler) -> None:
        self._base = base
        self._profiler = profiler
        self._cache: dict[str, Any] = {}

    def get(self, id: str) -> Any:
        t = self._cache.get(id)
        if t is None:
            t = self._cache[id] = self._timed(self._base.get(id))
        return t

    def _timed(self, ntype: Any) -> Any:
        prof, fn, batched = self._profiler, ntype.fn, ntype.batched

        @functools.wraps(fn)  # ``__wrapped__``: the timed Self is still the built-in one (compiled path)
        def timed_fn(x: Any, p: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(x, p)
            finally:
                prof.record(ntype.id, time.perf_counter() - t0)

        def timed_batched(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return batched(*a, **k)
            finally:
                prof.record(ntype.id, time.perf_counter() - t0, batched=True)

        return replace(ntype, fn=timed_fn, batched=timed_batched if batched else None)

    def __contains__(self, id: object) -> bool:
        return id in self._base

    def __iter__(self) -> Any:
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)
