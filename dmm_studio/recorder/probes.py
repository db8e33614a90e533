"""Probes: what one probe watches (``ProbeSpec``), the values it keeps
(``ProbeBuffer``: scalars in numpy rings, recent values as they are), and
what it sees after a step (``probe_value``). No Qt here; the views are in
``dmm_studio.gui.inspect.views``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..matrix import NeuronId, matrix_of
from ..vvalue import NUMBER, TENSOR, _wrap, get_in, is_number, is_tensor, lin_comb

SIDES = ("output", "input")


@dataclass(frozen=True)
class ProbeSpec:
    """A probe on an output (or an input) of a neuron, and how to show it."""

    type: str
    name: str
    port: str
    side: str = "output"
    view: str = "auto"  # auto | plot | bars | image | heatmap | tree
    zoom: bool = False  # pyqtgraph views (pan, zoom, axes) instead of the compact ones

    @property
    def key(self) -> str:
        return f"{self.type}/{self.name}/{self.port}" + (" (input)" if self.side == "input" else "")

    @property
    def neuron(self) -> NeuronId:
        return (self.type, self.name)

    @property
    def path(self) -> tuple[str, str, str]:
        return (self.type, self.name, self.port)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"port": self.port}
        if self.side != "output":
            d["side"] = self.side
        if self.view != "auto":
            d["view"] = self.view
        if self.zoom:
            d["zoom"] = True
        return d

    @classmethod
    def from_dict(cls, type: str, name: str, d: Mapping[str, Any]) -> ProbeSpec:
        side = d.get("side", "output")
        if side not in SIDES:
            raise ValueError(f"a probe's side is output or input, not {side!r}")
        return cls(type, name, str(d["port"]), side, str(d.get("view", "auto")), bool(d.get("zoom", False)))

    @classmethod
    def parse(cls, text: str) -> ProbeSpec:
        """``TYPE/NAME/OUTPUT`` (``TYPE/NAME/INPUT:in`` for an input)."""
        side = "output"
        if text.endswith(":in"):
            text, side = text[:-3], "input"
        parts = text.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"a probe is TYPE/NAME/OUTPUT, not {text!r}")
        return cls(parts[0], parts[1], parts[2], side)


def as_scalar(v: Any) -> float:
    """The number a scalar stream holds (``{}`` is 0); NaN when it is not a scalar."""
    if not v:
        return 0.0
    if isinstance(v, dict):
        if len(v) != 1:
            return float("nan")
        ((k, x),) = v.items()
        if k == NUMBER and is_number(x):
            return float(x)
        if k == TENSOR and is_tensor(x) and x.numel() == 1:
            return float(x.reshape(-1)[0])
        return float("nan")
    if is_number(v):
        return float(v)
    return float("nan")


def is_scalar_stream(v: Any) -> bool:
    if not v:
        return True
    if isinstance(v, dict) and len(v) == 1:
        ((k, x),) = v.items()
        return (k == NUMBER and is_number(x)) or (k == TENSOR and is_tensor(x) and x.numel() == 1)
    return False


class ProbeBuffer:
    """A probe's recent values: scalars in fixed numpy rings (for plots and
    export), and the last ``frames`` values as they are (for every other view).

    Output probes get every step (``append``, in the runner's thread); input
    probes are computed from the history at frame rate (``sample``), so their
    steps may have gaps. ``fallback(t)``, when set, finds the value of a step
    that the buffer no longer (or never) held, from the history.
    """

    def __init__(self, spec: ProbeSpec, capacity: int = 2000, frames: int = 200) -> None:
        self.spec = spec
        self.capacity = capacity
        self._t = np.zeros(capacity, dtype=np.int64)
        self._y = np.zeros(capacity, dtype=np.float64)
        self._n = 0  # values written since the last clear
        self._values: deque[tuple[int, Any]] = deque(maxlen=frames)
        self.version = 0
        self.generation = 0  # grows at every clear (a packet then starts afresh)
        self.fallback: Callable[[int], Any] | None = None
        self.error: str | None = None  # why the last value could not be recorded (``fail``)
        self._lock = threading.Lock()

    def fail(self, e: BaseException) -> None:
        """Recording this probe's value failed: keep why (the probe shows it in its
        place; the other probes and the run go on)."""
        self.error = f"{type(e).__name__}: {e}"
        self.version += 1

    def append(self, t: int, value: Any, gaps: bool = False) -> None:
        """Called once a step by one thread (the runner's); readers take the lock
        to copy, the writer only to start afresh (after each step, cheap)."""
        values = self._values
        if values:
            last = values[-1][0]
            if t <= last or (t != last + 1 and not gaps):  # a reset, or a step missed
                with self._lock:
                    self._n = 0
                    values.clear()
                    self.generation += 1
        y = value.get(NUMBER) if type(value) is dict and len(value) == 1 else None
        i = self._n % self.capacity
        self._t[i] = t
        self._y[i] = y if type(y) is int or type(y) is float else as_scalar(value)
        self._n += 1
        values.append((t, value))
        self.version += 1

    def last_t(self) -> int | None:
        with self._lock:
            return self._values[-1][0] if self._values else None

    def clear(self) -> None:
        with self._lock:
            self._n = 0
            self._values.clear()
            self.generation += 1
            self.version += 1

    # -- a copy fed from another process (``Recorder.packet`` / ``export``)
    def scalars_since(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The scalars written after the first ``n`` (at most ``capacity``), in step order."""
        ts, ys = self.scalars()
        k = min(self._n - n, len(ts))
        return (ts[len(ts) - k :], ys[len(ys) - k :]) if k > 0 else (ts[:0], ys[:0])

    def add_scalars(self, ts: np.ndarray, ys: np.ndarray, reset: bool = False) -> None:
        """Append ``(t, y)`` pairs to the scalar ring (``reset``: start afresh)."""
        with self._lock:
            if reset:
                self._n = 0
                self._values.clear()
            for t, y in zip(ts.tolist(), ys.tolist(), strict=True):
                i = self._n % self.capacity
                self._t[i], self._y[i] = t, y
                self._n += 1
            self.version += 1

    def add_value(self, t: int, value: Any) -> None:
        """Keep ``value`` as the one at step ``t`` (steps may have gaps; the same
        step again replaces its value, an earlier one starts afresh)."""
        with self._lock:
            if self._values and t <= self._values[-1][0]:
                if t == self._values[-1][0]:
                    self._values.pop()
                else:
                    self._values.clear()
            self._values.append((t, value))
            self.version += 1

    def export(self) -> dict[str, Any]:
        ts, ys = self.scalars()
        return {"t": ts, "y": ys, "values": self.values()}

    def load(self, d: Mapping[str, Any]) -> None:
        """Become the buffer ``export`` described."""
        with self._lock:
            self._n = 0
            self._values.clear()
        self.add_scalars(d["t"], d["y"])
        with self._lock:
            self._values.extend(d["values"])

    def __len__(self) -> int:
        return min(self._n, self.capacity)

    def scalars(self) -> tuple[np.ndarray, np.ndarray]:
        """``(t, y)`` in step order (copies)."""
        with self._lock:
            n, cap = self._n, self.capacity
            if n <= cap:
                return self._t[:n].copy(), self._y[:n].copy()
            i = n % cap
            return np.concatenate((self._t[i:], self._t[:i])), np.concatenate((self._y[i:], self._y[:i]))

    def latest(self) -> tuple[int, Any] | None:
        with self._lock:
            return self._values[-1] if self._values else None

    def value_at(self, t: int) -> Any:
        """The value at step ``t`` if still kept here or in the history (KeyError otherwise)."""
        with self._lock:
            if self._values:
                i = t - self._values[0][0]
                if 0 <= i < len(self._values) and self._values[i][0] == t:
                    return self._values[i][1]
                for tt, v in reversed(self._values):
                    if tt == t:
                        return v
                    if tt < t:
                        break
        if self.fallback is not None:
            return self.fallback(t)
        raise KeyError(t)

    def values(self) -> list[tuple[int, Any]]:
        with self._lock:
            return list(self._values)


def probe_value(spec: ProbeSpec, state: Mapping[str, Any], prev: Mapping[str, Any] | None) -> Any:
    """What a probe sees after a step: an output of ``state``; or an input as the
    step that made ``state`` computed it, from ``prev`` (SPEC §3, fields not
    applied)."""
    if spec.side == "output":
        v = get_in(state, spec.path)
        return v if v else {}
    if prev is None:
        return {}
    row = get_in(matrix_of(prev), spec.path)
    if not isinstance(row, dict):
        return {}
    return _wrap(lin_comb(row, prev))
