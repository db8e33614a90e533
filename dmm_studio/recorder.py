"""What the inspectors record while a network runs (no Qt here).

The runner's thread steps the engine flat out; the UI refreshes at frame
rate. So every step is recorded *in the runner's thread*, cheaply, by a
``Recorder``: the state goes into the ``History`` ring buffer, each probe
appends its value to its own ring buffer, and the break conditions are
checked. The UI thread reads the buffers when it draws a frame, never once
per step.

``EngineTap`` connects a recorder (and optionally a ``NodeProfiler``) to an
engine without changing the engine's code. In the studio the runner's step
hooks call it after each step (``after_step``), and a break it returns pauses
the runner. Headless, it shadows the engine instance's ``step`` instead, and
a break raises ``BreakpointReached`` (a ``StepError`` naming the neuron).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .breaks import BreakHit, Breaks
from .engine.base import Engine, StepError
from .history import History
from .matrix import NeuronId, matrix_neurons, matrix_of
from .vvalue import NUMBER, TENSOR, _wrap, get_in, is_number, is_tensor, lin_comb

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
        self._lock = threading.Lock()

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
        """Keep ``value`` as the one at step ``t`` (steps may have gaps)."""
        with self._lock:
            if self._values and t <= self._values[-1][0]:
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


class Recorder:
    """Records each step in the runner's thread: history, probes, breaks.

    ``on_step(t, state)`` returns the BreakHit that fired, or None. Adding and
    removing probes is safe from the UI thread while steps are recorded.
    """

    def __init__(self, history: History | None = None, breaks: Breaks | None = None) -> None:
        self.history = history if history is not None else History()
        self.breaks = breaks if breaks is not None else Breaks()
        self.probes: dict[str, ProbeBuffer] = {}
        self.hits: deque[BreakHit] = deque(maxlen=100)
        self.t: int | None = None
        self.version = 0  # grows with every recorded step
        self.steps_recorded = 0
        self.record_history = True
        self._prev: Mapping[str, Any] | None = None
        self._sent = {}  # probe key: (generation, count) sent in packets

    def add_probe(self, spec: ProbeSpec, capacity: int = 2000, frames: int = 200) -> ProbeBuffer:
        buf = self.probes.get(spec.key)
        if buf is None:
            buf = ProbeBuffer(spec, capacity, frames)
            buf.fallback = lambda t, spec=spec: self.value_at(spec, t)
            if self._prev is not None and self.t is not None:
                buf.append(self.t, probe_value(spec, self._prev, self._before(self.t)))
            self.probes = {**self.probes, spec.key: buf}  # copy-on-write: the runner iterates
            self._outputs = [b for b in self.probes.values() if b.spec.side == "output"]
        return buf

    def remove_probe(self, key: str) -> None:
        self.probes = {k: b for k, b in self.probes.items() if k != key}
        self._outputs = [b for b in self.probes.values() if b.spec.side == "output"]

    def _before(self, t: int) -> Mapping[str, Any] | None:
        try:
            return self.history.get(t - 1)
        except KeyError:
            return None

    def value_at(self, spec: ProbeSpec, t: int) -> Any:
        """A probe's value at a kept step, from the history (KeyError if not kept)."""
        return probe_value(spec, self.history.get(t), self._before(t))

    def start(self, t: int, state: Mapping[str, Any]) -> None:
        """Begin (or begin again) at the state after step ``t`` (0: the initial state)."""
        self.history.clear()
        self.history.push(t, state)  # type: ignore[arg-type]
        for buf in self.probes.values():
            buf.clear()
            buf.append(t, probe_value(buf.spec, state, None))
        self._prev, self.t = state, t
        self.version += 1

    def on_step(self, t: int, state: Mapping[str, Any]) -> BreakHit | None:
        """In the runner's thread, after each step: keep the state, the output
        probes' values, and check the breaks (cheap: no down movement here)."""
        prev = self._prev if self.t is not None and t == self.t + 1 else None
        if self.record_history:
            self.history.push(t, state)  # type: ignore[arg-type]
        for buf in self._outputs:
            f, n, o = buf.spec.path  # (indexing: a third of the cost of get_in, every step)
            try:
                v = state[f][n][o]
            except KeyError:
                v = {}
            buf.append(t, v)
        hit = self.breaks.check(t, state, prev) if self.breaks else None
        if hit is not None:
            self.hits.append(hit)
        self._prev, self.t = state, t
        self.steps_recorded += 1
        self.version += 1
        return hit

    def sample(self, keys: Iterable[str] | None = None) -> None:
        """In the UI thread, once a frame: the input probes' values at the latest
        step (an input is a down movement of the row, too dear for every step);
        ``keys``: only these probes (the ones on screen)."""
        latest = self.history.latest()
        if latest is None:
            return
        t, state = latest
        wanted = None if keys is None else set(keys)
        for buf in self.probes.values():
            if buf.spec.side != "input" or (wanted is not None and buf.spec.key not in wanted):
                continue
            last = buf.last_t()
            if last is not None and last >= t:
                continue
            buf.append(t, probe_value(buf.spec, state, self._before(t)), gaps=True)

    _outputs: list[ProbeBuffer] = []

    # ------------------------------------------------------------ across processes
    # The engine's process records every step (``on_step``) and sends, once a
    # frame, ``packet()``; the studio's copy takes it with ``ingest``. When the
    # run stops the whole record goes across (``export`` / ``load_export``), so
    # that every kept step can be scrubbed.

    def packet(self) -> dict[str, Any]:
        """What the studio needs for a frame besides the latest state: ``W_{t-1}``
        (the Self view's and the history's changes), the input probes' values,
        the output probes' scalars recorded since the last packet, and how
        much the history keeps."""
        latest = self.history.latest()
        prev = self._before(latest[0]) if latest is not None else None
        inputs = {}
        if latest is not None:
            for buf in self.probes.values():
                if buf.spec.side == "input":
                    inputs[buf.spec.key] = probe_value(buf.spec, latest[1], prev)
        sent = self._sent
        scalars: dict[str, tuple[np.ndarray, np.ndarray, bool]] = {}
        for buf in self._outputs:
            gen, n = sent.get(buf.spec.key, (-1, 0))
            reset = gen != buf.generation
            ts, ys = buf.scalars_since(0 if reset else n)
            sent[buf.spec.key] = (buf.generation, buf._n)
            if len(ts) or reset:
                scalars[buf.spec.key] = (ts, ys, reset)
        first, last = self.history.span()
        return {
            "prev_matrix": matrix_of(prev) if prev is not None else None,
            "inputs": inputs,
            "scalars": scalars,
            "kept": (first, last, len(self.history)),
        }

    _sent: dict[str, tuple[int, int]]

    def export(self) -> dict[str, Any]:
        """The whole record: every kept state and the output probes' buffers."""
        self._sent = {b.spec.key: (b.generation, b._n) for b in self._outputs}
        return {
            "t": self.t,
            "history": list(self.history.items()),
            "probes": {b.spec.key: b.export() for b in self._outputs},
        }

    def ingest(self, t: int, state: Mapping[str, Any], packet: Mapping[str, Any]) -> None:
        """A frame from the engine's process: the latest state (kept alone here,
        with ``W_{t-1}`` beside it), the input probes' values and the output
        probes' scalars since the last frame."""
        self.history.push(t, state)  # type: ignore[arg-type]
        first, last, n = packet.get("kept", (None, None, 0))
        self.history.remote = (first, last, n) if first is not None else None
        self.history.before = packet.get("prev_matrix")
        for key, (ts, ys, reset) in packet.get("scalars", {}).items():
            buf = self.probes.get(key)
            if buf is not None:
                buf.add_scalars(ts, ys, reset)
        for buf in self._outputs:
            buf.add_value(t, probe_value(buf.spec, state, None))
        for key, v in packet.get("inputs", {}).items():
            buf = self.probes.get(key)
            if buf is not None:  # a value a frame (as ``sample`` keeps them): plotted with gaps
                buf.append(t, v, gaps=True)
        self._prev, self.t = state, t
        self.version += 1

    def load_export(self, d: Mapping[str, Any]) -> None:
        """Become the record ``export`` described (the run stopped)."""
        self.history.clear()
        self.history.remote = None
        self.history.before = None
        for t, s in d["history"]:
            self.history.push(t, s)
        for key, e in d["probes"].items():
            buf = self.probes.get(key)
            if buf is not None:
                buf.load(e)
        latest = self.history.latest()
        self.t = d["t"] if latest is None else latest[0]
        self._prev = latest[1] if latest is not None else None
        self.version += 1


# --------------------------------------------------------------------- timing


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


def _builtin_kernel(ntype: Any) -> Any:
    """The compiled engine's own batched kernel for a built-in type (it uses it
    only while the type's function is the built-in one, which the timing
    wrapper replaces: so the wrapper passes the kernel on explicitly)."""
    try:
        from .engine._batched import BUILTIN_KERNELS
        from .engine.compiled import _builtin_fn
    except ImportError:
        return None
    kernel = BUILTIN_KERNELS.get(ntype.id)
    try:
        return kernel if kernel is not None and _builtin_fn(ntype.id) is ntype.fn else None
    except Exception:
        return None


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
        if batched is None:
            batched = _builtin_kernel(ntype)

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


class BreakpointReached(StepError):
    """A break condition fired after a step (the step itself completed)."""

    def __init__(self, hit: BreakHit) -> None:
        self.hit = hit
        super().__init__(hit.t, f"break: {hit.message}", hit.neuron)


class EngineTap:
    """Records an engine's steps into a Recorder (and times its neurons into a
    NodeProfiler while ``profiling``).

    Two ways to drive it. With a runner that has step hooks (the studio's
    ``Runner``): ``attach(engine, wrap=False)`` when a machine is made, then
    ``after_step(engine)`` after each step, which returns the BreakHit that
    fired (the runner pauses on it). Headless (tests, scripts):
    ``attach(engine)`` shadows the engine instance's ``step`` with one that
    calls ``after_step``; ``raise_on_break``: a break raises
    ``BreakpointReached`` from ``step``; ``detach`` restores the engine.
    ``on_break(hit)`` is called either way.
    """

    def __init__(
        self,
        recorder: Recorder,
        profiler: NodeProfiler | None = None,
        *,
        raise_on_break: bool = True,
        on_break: Callable[[BreakHit], None] | None = None,
    ) -> None:
        self.recorder = recorder
        self.profiler = profiler
        self.profiling = False
        self.raise_on_break = raise_on_break
        self.on_break = on_break
        self.engine: Engine | None = None
        self._base_registry: Any = None
        self._timing = False  # the step now running is timed

    def attach(self, engine: Engine, wrap: bool = True) -> None:
        if self.engine is engine:
            return
        self.detach()
        self.engine = engine
        self._base_registry = engine.registry
        if wrap:
            original = type(engine).step

            def step() -> None:
                original(engine)
                hit = self.after_step(engine)
                if hit is not None and self.raise_on_break:
                    raise BreakpointReached(hit)

            engine.step = step  # type: ignore[method-assign]
        self.recorder.start(engine.t, engine.state())
        self._before_step(engine)

    def _before_step(self, engine: Engine) -> None:
        """Set the engine up for its next step: timed (profiling) or not."""
        prof = self.profiler if self.profiling else None
        if prof is not None:
            if not isinstance(engine.registry, _TimingRegistry):
                engine.registry = _TimingRegistry(self._base_registry, prof)  # type: ignore[assignment]
            prof.begin_step(engine)
            self._timing = True
        else:
            if isinstance(engine.registry, _TimingRegistry):
                engine.registry = self._base_registry
            self._timing = False

    def after_step(self, engine: Engine) -> BreakHit | None:
        """After a step of the attached engine: record it; the BreakHit that fired, or None."""
        if engine is not self.engine:
            return None
        if self._timing and self.profiler is not None:
            if self.profiling:
                self.profiler.end_step()
            else:  # switched off during the step: its times are not wanted
                self.profiler.take()
        hit = self.recorder.on_step(engine.t, engine.state_view())
        if self._timing or self.profiling:
            self._before_step(engine)
        if hit is not None and self.on_break is not None:
            self.on_break(hit)
        return hit

    def detach(self) -> None:
        engine, self.engine = self.engine, None
        if engine is None:
            return
        engine.__dict__.pop("step", None)
        if isinstance(engine.registry, _TimingRegistry):
            engine.registry = self._base_registry
        self._timing = False


def step_recorded(
    engine: Engine, recorder: Recorder, n: int, profiler: NodeProfiler | None = None
) -> Iterable[BreakHit]:
    """Run ``n`` steps headless through a tap (for tests and the CLI); yields hits."""
    tap = EngineTap(recorder, profiler, raise_on_break=False)
    tap.profiling = profiler is not None
    hits: list[BreakHit] = []
    tap.on_break = hits.append
    tap.attach(engine)
    try:
        for _ in range(n):
            engine.step()
            if hits:
                break
    finally:
        tap.detach()
    return hits
