"""The record of a run, kept step by step beside the engine (no Qt here).

This module holds ``Recorder`` (the history, the probes' buffers, the breaks;
``packet``/``export`` and ``ingest``/``load_export`` move a record between
the engine host and the studio), ``EngineTap`` (connects a recorder, and a
``NodeProfiler``, to an engine without changing the engine's code),
``BreakpointReached`` and ``step_recorded`` (headless use).

The engine host (``dmm_studio.host``) steps the engine flat out and records
every step here, cheaply: the state goes into the ``History`` ring buffer,
each output probe appends its value to its own ring buffer, and the break
conditions are checked. The studio takes what was recorded at frame rate,
never once per step. Headless, ``EngineTap`` shadows the engine instance's
``step`` instead, and a break raises ``BreakpointReached`` (a ``StepError``
naming the neuron).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..breaks import BreakHit, Breaks
from ..engine.base import Engine, StepError
from ..history import History
from ..matrix import matrix_of
from .probes import ProbeBuffer, ProbeSpec, probe_value
from .profiling import NodeProfiler, _TimingRegistry


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
                prev, t = self._prev, self.t
                _record(buf, t, lambda: probe_value(spec, prev, self._before(t)))
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
            _record(buf, t, lambda buf=buf: probe_value(buf.spec, state, None))
        self._prev, self.t = state, t
        self.version += 1

    def on_step(
        self, t: int, state: Mapping[str, Any], all_finite: Callable[[], bool | None] | None = None
    ) -> BreakHit | None:
        """In the runner's thread, after each step: keep the state, the output
        probes' values, and check the breaks (cheap: no down movement here).
        ``all_finite``: the engine's ``Engine.all_finite``, which spares the
        NaN/Inf break its walk of the state on the steps where all is finite."""
        prev = self._prev if self.t is not None and t == self.t + 1 else None
        if self.record_history:
            self.history.push(t, state)  # type: ignore[arg-type]
        for buf in self._outputs:
            f, n, o = buf.spec.path  # (indexing: a third of the cost of get_in, every step)
            try:
                v = state[f][n][o]
            except KeyError:
                v = {}
            try:  # one probe that fails is said in its place; the others and the run go on
                buf.append(t, v)
            except Exception as e:
                buf.fail(e)
            else:
                if buf.error is not None:
                    buf.error = None
        hit = self.breaks.check(t, state, prev, all_finite) if self.breaks else None
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
            _record(buf, t, lambda buf=buf: probe_value(buf.spec, state, self._before(t)), gaps=True)

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
                    try:
                        inputs[buf.spec.key] = probe_value(buf.spec, latest[1], prev)
                    except Exception as e:
                        buf.fail(e)
        sent = self._sent
        scalars: dict[str, tuple[np.ndarray, np.ndarray, bool]] = {}
        for buf in self._outputs:
            gen, n = sent.get(buf.spec.key, (-1, 0))
            reset = gen != buf.generation
            ts, ys = buf.scalars_since(0 if reset else n)  # (numpy copies: nothing to fail)
            sent[buf.spec.key] = (buf.generation, buf._n)
            if len(ts) or reset:
                scalars[buf.spec.key] = (ts, ys, reset)
        first, last = self.history.span()
        return {
            "prev_matrix": matrix_of(prev) if prev is not None else None,
            "inputs": inputs,
            "scalars": scalars,
            "kept": (first, last, len(self.history)),
            "errors": {b.spec.key: b.error for b in self.probes.values() if b.error},
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
        errors = dict(packet.get("errors", {}))  # what the engine's side could not record
        for buf in self._outputs:
            try:
                buf.add_value(t, probe_value(buf.spec, state, None))
            except Exception as e:
                errors.setdefault(buf.spec.key, f"{type(e).__name__}: {e}")
        for key, v in packet.get("inputs", {}).items():
            buf = self.probes.get(key)
            # a value a frame (as ``sample`` keeps them): plotted with gaps; a frame of
            # the same step again (the run paused right after a frame) adds nothing
            if buf is not None and buf.last_t() != t:
                try:
                    buf.append(t, v, gaps=True)
                except Exception as e:
                    errors.setdefault(key, f"{type(e).__name__}: {e}")
        for key, buf in self.probes.items():
            error = errors.get(key)
            if error != buf.error:
                buf.error = error
                buf.version += 1
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
        hit = self.recorder.on_step(engine.t, engine.state_view(), engine.all_finite)
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


def _record(buf: ProbeBuffer, t: int, value: Callable[[], Any], gaps: bool = False) -> None:
    """Append ``value()`` to ``buf``; a failure is the probe's alone (``buf.fail``)."""
    try:
        buf.append(t, value(), gaps=gaps)
    except Exception as e:
        buf.fail(e)
    else:
        buf.error = None
