"""The engine the studio, the CLI and ``Machine`` use by default ("compiled").

It picks, step by step, which code runs the network:

* **Small networks** (at most ``threshold`` weights, default
  ``SMALL_WEIGHTS`` = 64, and at most ``SMALL_TENSOR_ELEMENTS`` elements in
  the state's root tensors, none with a ``cuda`` device): the reference's
  code on dicts, which is faster there (a compiled step has a fixed cost of
  some tens of torch calls; the reference's code takes ~10 us per weight).
  Past either limit the network is compiled; it goes back to dicts only
  below half of both (hysteresis: a network breathing around the threshold
  does not recompile every step). ``threshold=0`` always compiles.
* **Regular networks** beyond that: ``CompiledEngine``.
* **Every other network** (W with reserved keys or leaves at other depths, W
  read by other neurons, a replaced Self; see ``regular.py``), and any step
  in which fields modulate Self: the reference's code, always right, only
  slower. The first time a network that is not small takes that path, a
  ``SlowPathWarning`` says which and why (``why`` holds it meanwhile). Such a
  network is checked again at each step and compiled once it can run so.

Threads: torch's thread count is set when a network is compiled: ``threads``
if given (0 leaves torch's setting alone), else by size and load: one thread
below ``PARALLEL_WEIGHTS`` weights (a parallel product of a small matrix
costs more in waking threads than it saves, and far more on a busy machine),
else one per core that the load average leaves free. The setting is torch's,
for the whole process.

Which code runs is invisible from outside except in speed, and in numbers:
the reference keeps Python's ints, the compiled form float64 (int or float
is not part of a V-value's meaning; files and traces print integral values
as integers).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

import torch

from ..registry import SELF_NAME, SELF_TYPE
from . import reference
from .base import MATRIX_OUTPUT, Engine, State, canonical_state, matrix_of
from .compiled import SELF, CompiledEngine, Uncovered
from .regular import IRREGULAR, NOT_CANONICAL, matrix_problem

SMALL_WEIGHTS = 64
SMALL_TENSOR_ELEMENTS = 16_384
SMALL = "a small network"
PARALLEL_WEIGHTS = 200_000


def resolve_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch device ("auto": CUDA where torch sees one, else the CPU).
    Raises RuntimeError for "cuda" where torch sees no CUDA device."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    d = torch.device(device)
    if d.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but torch sees no CUDA device")
    return d


def choose_threads(weights: int) -> int:
    """Torch threads for a product of ``weights`` non-zeros: 1 below
    ``PARALLEL_WEIGHTS``, else the cores the load average leaves free (at least 1)."""
    if weights < PARALLEL_WEIGHTS:
        return 1
    cores = os.cpu_count() or 1
    return max(1, min(cores, round(cores - os.getloadavg()[0] + 1)))


class SlowPathWarning(UserWarning):
    """A network beyond the small size runs the reference's code (slower); says why."""


class AutoEngine(Engine):
    """The reference's code or ``CompiledEngine``, whichever suits the state."""

    name = "compiled"

    def __init__(
        self,
        state: Mapping[str, Any],
        *,
        device: str = "auto",
        threshold: int = SMALL_WEIGHTS,
        threads: int | None = None,
        **kwargs: Any,
    ) -> None:
        """``threshold``: weights up to which the reference's code runs (0:
        always compiled); ``threads``: torch threads (None: by size and load)."""
        self.device = resolve_device(device)
        self.threads = threads
        self.threshold = max(0, int(threshold))
        self.small = True  # a new network is small up to the threshold itself
        self.inner: CompiledEngine | None = None
        self.why = SMALL  # why the reference's code runs it ("" while compiled)
        self._warned = False
        super().__init__(state, **kwargs)

    # ---------------------------------------------------------------- choosing the form
    def set_state(self, state: Mapping[str, Any]) -> None:
        """Hold a state (canonicalised; W, the bulk of a large state, only when
        one pass finds it is not canonical already)."""
        w = matrix_of(state)
        try:
            problem = matrix_problem(w, self.registry)
        except AttributeError:  # keys that are not strings: canon() names what is wrong
            problem = NOT_CANONICAL
        if problem in (IRREGULAR, NOT_CANONICAL):
            self._hold(canonical_state(state))
            return
        rest = {
            f: {n: {o: v for o, v in outs.items() if v is not w} for n, outs in names.items()}
            for f, names in state.items()
        }
        y = canonical_state(rest)
        if w:
            y.setdefault(SELF_TYPE, {}).setdefault(SELF_NAME, {})[MATRIX_OUTPUT] = w
        self._hold(y, problem)

    def _hold(self, y: State, problem: str | None = None) -> None:
        """Hold a canonical state in the form that suits it (``problem``:
        ``matrix_problem`` of its W, when known)."""
        self.inner = None
        self._y: State | None = y
        w = matrix_of(y)
        self.small = self._fits_small(y, w)
        if self.small:
            self.why = SMALL
            return
        self.why = matrix_problem(w, self.registry) if problem is None else problem
        if self.why:
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"this network runs on the reference's (slower) code: {self.why}", SlowPathWarning, 3
                )
            return
        self.inner = CompiledEngine(y, device=str(self.device), registry=self.registry, checked=True)
        self.inner.t = self.t
        threads = choose_threads(self.inner._A.nnz) if self.threads is None else self.threads
        if threads and threads != torch.get_num_threads():
            torch.set_num_threads(threads)
        self._y = None

    def _fits_small(self, y: State, w: Mapping[str, Any], weights: int | None = None) -> bool:
        """Whether ``y`` is small enough for the reference's code: up to
        ``threshold`` weights and ``SMALL_TENSOR_ELEMENTS`` (half of each once compiled)."""
        if self.threshold <= 0:
            return False
        half = 1 if self.small else 2
        if (weights if weights is not None else _count_weights(w, self.threshold)) > self.threshold // half:
            return False
        elements = 0
        for names in y.values():
            for outs in names.values():
                for v in outs.values():
                    t = v.get(":tensor")
                    if t is not None:
                        if self.device.type != "cpu" or t.device.type != "cpu":
                            return False  # tensors stay on the device the engine was asked for
                        elements += t.numel()
        return elements <= SMALL_TENSOR_ELEMENTS // half

    # ---------------------------------------------------------------- the step
    def step(self) -> None:
        gains = self.field_gains()
        params = self.effective_params(gains)
        inner = self.inner
        if inner is not None and (gains is None or SELF not in gains.inputs and SELF not in gains.outputs):
            inner.t = self.t
            try:
                inner.advance(params, gains, self.registry)
            except Uncovered:
                pass  # this step: the reference's code, below
            else:
                self.t = inner.t
                nnz = inner._A.nnz
                if inner.problem:
                    self._hold(inner.state())
                elif self.threshold and nnz <= self.threshold // 2:
                    y = inner.state()
                    if self._fits_small(y, matrix_of(y), nnz):
                        self._hold(y)
                return
        y = self._y if inner is None else inner.state()
        assert y is not None
        self._hold(reference.step(y, params, self.registry, self.t, gains))
        self.t += 1

    # ---------------------------------------------------------------- reading and editing
    def state(self) -> State:
        if self.inner is not None:
            return self.inner.state()
        assert self._y is not None
        return {f: {n: dict(o) for n, o in names.items()} for f, names in self._y.items()}

    def state_view(self) -> State:
        return self._y if self._y is not None else self.state()

    def matrix(self) -> Any:
        return self.inner.matrix() if self.inner is not None else super().matrix()

    def output(self, type: str, name: str, output: str) -> Any:
        return (
            self.inner.output(type, name, output)
            if self.inner is not None
            else super().output(type, name, output)
        )

    def active(self) -> list[tuple[str, str]]:
        return self.inner.active() if self.inner is not None else super().active()

    def stats(self) -> dict[str, int]:
        if self.inner is None:
            return super().stats()
        return {**self.inner.stats(), "t": self.t}

    def footprint(self) -> tuple[int, int]:
        """(the compiled form's counts, without exporting the state: Machine checks them every step)"""
        return self.inner.footprint() if self.inner is not None else super().footprint()

    def all_finite(self) -> bool | None:
        return self.inner.all_finite() if self.inner is not None else super().all_finite()

    def edit_matrix(self, delta: Mapping[str, Any]) -> None:
        """``W_t += delta`` between steps (compiled: applied in place, as Self's delta)."""
        if self.inner is None:
            super().edit_matrix(delta)
            return
        self.inner.edit_matrix(delta)
        if self.inner.problem:
            self._hold(self.inner.state())


def _count_weights(w: Mapping[str, Any], limit: int) -> int:
    """The numbers at depth six of W, counted up to just past ``limit``;
    anything else (reserved keys, leaves at other depths) counts as one."""
    k = 0
    for names in w.values():
        if type(names) is not dict:
            k += 1
            continue
        for ins in names.values():
            if type(ins) is not dict:
                k += 1
                continue
            for row in ins.values():
                if type(row) is not dict:
                    k += 1
                    continue
                for ms in row.values():
                    if type(ms) is not dict:
                        k += 1
                        continue
                    for outs in ms.values():
                        k += len(outs) if type(outs) is dict else 1
            if k > limit:
                return k
    return k
