"""The runner: a Machine stepping in a worker thread, frames for the UI.

(``ProcessRunner``, at the end of this module, has the same commands and
signals with the machine in a process of its own; see ``dmm_studio.host``.)

The engine never runs on the UI thread. ``Runner`` (lives in the UI thread)
owns a ``QThread`` with a ``_Worker`` in it; the worker holds the ``Machine``
and steps it from its own event loop, so that every command (pause, an edit,
a new limit) is handled *between* two steps.

Signal API (what the inspectors subscribe to; all are delivered in the UI
thread):

``stepped(frame: Frame)``
    A snapshot after some step, at most ``max_fps`` times a second while
    running, and always after ``step()``, ``pause()``, ``reset()`` and an
    edit. ``frame.t`` is the step, ``frame.state`` is ``y_t`` (a fresh copy:
    keep it), ``frame.matrix`` is ``W_t``, ``frame.active`` the active
    neurons, ``frame.stats`` ``{"t", "active", "nonzeros", "steps_per_s"}``,
    ``frame.steps`` how many steps ran since the previous frame.
``running_changed(bool)``
    The machine started or stopped running.
``halted(str)`` / ``failed(str)``
    The network halted (empty matrix) / a neuron failed (``StepError``);
    running stops.
``broke(reason: str, neuron: (type, name) or None)``
    A step hook asked for a break (see below): running pauses after that
    step, as if ``pause()`` had been called (a break is not a failure).

Hooks (for the inspectors; called in the worker thread, never the UI's):
``add_step_hook(fn)``: ``fn(machine)`` after every step. It returns None to go
on, or a break: an object with ``message`` (and optionally ``neuron``), or a
string; the run pauses and ``broke`` is emitted. ``add_machine_hook(fn)``:
``fn(machine)`` whenever the worker makes a machine (load, reset) and at once
for the machine it holds. ``remove_step_hook`` / ``remove_machine_hook``.

Commands (call from the UI thread; they are queued to the worker):
``load(network)`` (a copy of the design, t = 0), ``step(n=1)``, ``run()``,
``pause()``, ``reset()``, ``set_limit(steps_per_s or 0 for none)``,
``edit_weight(to, frm, w)`` (``W_t`` gets the delta ``w - W_t[to][frm]``,
through ``Machine.edit_matrix``), ``edit_matrix(delta)``,
``set_output(nid, output, v)``, ``set_param(nid, p, v)``,
``remove_neuron(nid)``, ``rename_neuron(type, old, new)``,
``call(fn)`` (``fn(machine)`` in the worker, between steps),
``request_snapshot(on_ready)`` (the running state as a Network, taken in the
worker between two steps; ``on_ready(network, t, error)`` is called later in
the UI thread: never blocks) and ``snapshot()`` (the same, but waits for the
worker to finish its current step: for scripts and tests, not for the UI).
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from ..engine.base import NetworkHalted, StepError
from ..host import Pace, describe, limit_torch_threads, unpack_frame
from ..machine import Machine
from ..network import Network, Port
from ..registry import SELF_NAME, SELF_TYPE

NeuronId = tuple[str, str]


@dataclass
class Frame:
    """What the UI gets after a step: ``t``, ``y_t``, ``W_t``, the active part, stats."""

    t: int
    state: dict[str, Any]
    matrix: dict[str, Any]
    active: list[NeuronId]
    stats: dict[str, Any] = field(default_factory=dict)
    steps: int = 0


class _Worker(QObject):
    frame = Signal(object)
    running_changed = Signal(bool)
    halted = Signal(str)
    failed = Signal(str)
    snapshot_taken = Signal(object)  # (token, Network or None, t, error)
    broke = Signal(str, object)  # reason, neuron or None

    def __init__(self, engine: str | None, engine_kwargs: dict[str, Any]) -> None:
        super().__init__()
        # copy-on-write lists: the UI thread replaces them, the worker iterates
        self.step_hooks: tuple[Callable[[Machine], Any], ...] = ()
        self.machine_hooks: tuple[Callable[[Machine], Any], ...] = ()
        self.engine = engine
        self.engine_kwargs = engine_kwargs
        self.machine: Machine | None = None
        self.timer: QTimer | None = None
        self.pace = Pace()  # the limit in steps per second, the rate measured
        self.max_fps = 30.0
        self.running = False
        self._last_frame = 0.0
        self._steps_since = 0

    @Slot()
    def start(self) -> None:
        limit_torch_threads()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)

    def stop_timer(self) -> None:
        """In the worker thread as it finishes: a timer is stopped by its own thread."""
        self.running = False
        if self.timer is not None:
            self.timer.stop()

    # -- commands (each runs between two steps)
    @Slot(object)
    def do(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception as e:  # an edit that fails is reported, never a crash
            self.failed.emit(f"{type(e).__name__}: {e}")

    def load(self, network: Network) -> None:
        self.machine = Machine(network, engine=self.engine, **self.engine_kwargs)
        self._machine_made()
        self._emit_frame()

    def _machine_made(self) -> None:
        m = self.machine
        if m is None:
            return
        for hook in self.machine_hooks:
            try:
                hook(m)
            except Exception as e:  # a hook that fails is reported, never a crash
                self.failed.emit(f"{type(e).__name__}: {e}")

    def step(self, n: int) -> None:
        self._set_running(False)
        self._steps(n)
        self._emit_frame()

    def run(self) -> None:
        if self.machine is None:
            return
        self.pace.start()
        self._set_running(True)

    def pause(self) -> None:
        self._set_running(False)
        self._emit_frame()

    def reset(self, network: Network | None) -> None:
        self._set_running(False)
        if network is not None:
            self.machine = Machine(network, engine=self.engine, **self.engine_kwargs)
        elif self.machine is not None:
            self.machine.reset()
        self._machine_made()
        self.pace.rate = 0.0
        self._emit_frame()

    def set_limit(self, sps: float) -> None:
        self.pace.set_limit(sps)
        if self.running and self.timer is not None:
            self.timer.start(self._interval())

    def take_snapshot(self, token: int) -> None:
        m = self.machine
        if m is None:
            self.snapshot_taken.emit((token, None, 0, "nothing is loaded"))
            return
        try:
            net = m.snapshot()
        except Exception as e:  # reported to the one who asked, never a crash
            self.snapshot_taken.emit((token, None, m.t, f"{type(e).__name__}: {e}"))
            return
        self.snapshot_taken.emit((token, net, m.t, ""))

    def edit(self, fn: Callable[[Machine], None]) -> None:
        if self.machine is not None:
            fn(self.machine)
            if not self.running:
                self._emit_frame()

    # -- stepping
    def _interval(self) -> int:
        return 0 if self.pace.limit <= 0 else max(1, int(1000 / self.pace.limit / 2))

    def _set_running(self, on: bool) -> None:
        if on == self.running:
            return
        self.running = on
        if self.timer is not None:
            if on:
                self.timer.start(self._interval())
            else:
                self.timer.stop()
        self.running_changed.emit(on)

    def _steps(self, n: int) -> bool:
        m = self.machine
        if m is None:
            return False
        hooks = self.step_hooks
        try:
            for _ in range(n):
                m.step()
                self._steps_since += 1
                self.pace.count()
                for hook in hooks:
                    stop = hook(m)
                    if stop is not None:
                        self._break(stop)
                        return False
        except NetworkHalted as e:
            self._set_running(False)
            self._emit_frame()
            self.halted.emit(str(e))
            return False
        except StepError as e:
            self._set_running(False)
            self._emit_frame()
            self.failed.emit(str(e))
            return False
        return True

    def _break(self, stop: Any) -> None:
        """A step hook asked for a break: pause (not a failure) and say why."""
        self._set_running(False)
        self._emit_frame()
        reason = stop if isinstance(stop, str) else str(getattr(stop, "message", stop))
        neuron = None if isinstance(stop, str) else getattr(stop, "neuron", None)
        self.broke.emit(reason, tuple(neuron) if neuron is not None else None)

    def _tick(self) -> None:
        if not self.running or self.machine is None:
            return
        now = time.perf_counter()
        if self.pace.limit > 0:
            due = self.pace.due(now)
            if due and not self._steps(due):
                return
        else:
            # as fast as it goes, but back to the event loop every ~15 ms
            end = now + 0.015
            while time.perf_counter() < end:
                if not self._steps(1):
                    return
        now = time.perf_counter()
        self.pace.measure(now)
        if now - self._last_frame >= 1.0 / self.max_fps:
            self._emit_frame()

    def _emit_frame(self) -> None:
        m = self.machine
        if m is None:
            return
        self._last_frame = time.perf_counter()
        state, w, active, stats = describe(m, self.pace.rate if self.running else 0.0)
        self.frame.emit(Frame(m.t, state, w, active, stats, self._steps_since))
        self._steps_since = 0


class Runner(QObject):
    """The UI's handle on the running machine (see the module docstring)."""

    stepped = Signal(object)  # Frame
    running_changed = Signal(bool)
    halted = Signal(str)
    failed = Signal(str)
    broke = Signal(str, object)  # reason, neuron (type, name) or None
    _job = Signal(object)
    _job_wait = Signal(object)

    def __init__(
        self, engine: str | None = None, parent: QObject | None = None, **engine_kwargs: Any
    ) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("dmm-runner")
        self.worker = _Worker(engine, engine_kwargs)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.start)
        self.thread.finished.connect(self.worker.stop_timer, Qt.ConnectionType.DirectConnection)
        self._job.connect(self.worker.do)
        self._job_wait.connect(self.worker.do, Qt.ConnectionType.BlockingQueuedConnection)
        self.worker.frame.connect(self._on_frame)
        self.worker.running_changed.connect(self._on_running)
        self.worker.halted.connect(self.halted)
        self.worker.failed.connect(self.failed)
        self.worker.broke.connect(self.broke)
        self.worker.snapshot_taken.connect(self._on_snapshot)
        self.thread.start()
        self._snapshots: dict[int, Callable[[Network | None, int, str], None]] = {}
        self._snapshot_seq = 0
        self.last: Frame | None = None
        self.running = False
        self.t = 0
        self.loaded = False

    def _send(self, fn: Callable[[], None]) -> None:
        self._job.emit(fn)

    def _on_frame(self, frame: Frame) -> None:
        self.last = frame
        self.t = frame.t
        self.stepped.emit(frame)

    def _on_running(self, on: bool) -> None:
        self.running = on
        self.running_changed.emit(on)

    # -- commands
    def load(self, network: Network) -> None:
        """A copy of the design to run from t = 0 (the caller passes a copy)."""
        self.loaded = True
        self.t = 0
        self._send(lambda: self.worker.load(network))

    def step(self, n: int = 1) -> None:
        self._send(lambda: self.worker.step(n))

    def run(self) -> None:
        self._send(self.worker.run)

    def pause(self) -> None:
        self._send(self.worker.pause)

    def reset(self, network: Network | None = None) -> None:
        self.t = 0
        self._send(lambda: self.worker.reset(network))

    def set_limit(self, steps_per_s: float) -> None:
        self._send(lambda: self.worker.set_limit(steps_per_s))

    # -- hooks (run in the worker thread)
    def add_step_hook(self, fn: Callable[[Machine], Any]) -> None:
        """``fn(machine)`` after every step, in the worker (None: go on; else a break)."""
        w = self.worker

        def add() -> None:
            if fn not in w.step_hooks:
                w.step_hooks = (*w.step_hooks, fn)

        self._send(add)

    def remove_step_hook(self, fn: Callable[[Machine], Any]) -> None:
        w = self.worker
        self._send(lambda: setattr(w, "step_hooks", tuple(h for h in w.step_hooks if h is not fn)))

    def add_machine_hook(self, fn: Callable[[Machine], Any]) -> None:
        """``fn(machine)`` in the worker whenever it makes a machine, and now for the
        one it holds (so that a hook added late sees the machine too)."""
        w = self.worker

        def add() -> None:
            if fn not in w.machine_hooks:
                w.machine_hooks = (*w.machine_hooks, fn)
            if w.machine is not None:
                fn(w.machine)

        self._send(add)

    def remove_machine_hook(self, fn: Callable[[Machine], Any]) -> None:
        w = self.worker
        self._send(lambda: setattr(w, "machine_hooks", tuple(h for h in w.machine_hooks if h is not fn)))

    def call(self, fn: Callable[[Machine], None]) -> None:
        """``fn(machine)`` in the worker thread, between two steps."""
        self._send(lambda: self.worker.edit(fn))

    def edit_matrix(self, delta: dict[str, Any]) -> None:
        self.call(lambda m: m.edit_matrix(delta))

    def edit_weight(self, to: Port, frm: Port, w: float) -> None:
        """Enter a weight change as a delta through Self: ``W_t += (w - W_t[to][frm])``."""

        self.call(lambda m: m.edit_weight(to, frm, w))

    def set_output(self, nid: NeuronId, output: str, value: Any) -> None:
        self.call(lambda m: m.set_output(*nid, output, value))

    def set_param(self, nid: NeuronId, param: str, value: Any) -> None:
        self.call(lambda m: m.set_param(*nid, param, value))

    def remove_neuron(self, nid: NeuronId) -> None:
        self.call(lambda m: m.remove_neuron(nid))

    def rename_neuron(self, type: str, old: str, new: str) -> None:
        self.call(lambda m: m.rename_neuron(type, old, new))

    def set_fields(self, fields: list[Any]) -> None:
        """The modulating fields of the running machine (a valid list, copied)."""
        fields = copy.deepcopy(list(fields))
        self.call(lambda m: m.set_fields(fields))

    def request_snapshot(self, on_ready: Callable[[Network | None, int, str], None]) -> None:
        """Ask for the running state as a new design, taken between two steps.

        Returns at once; ``on_ready(network, t, error)`` is called in the UI
        thread when the worker has it (``network`` None and ``error`` set when
        there is nothing to snapshot or taking it failed)."""
        self._snapshot_seq += 1
        token = self._snapshot_seq
        self._snapshots[token] = on_ready
        self._send(lambda: self.worker.take_snapshot(token))

    def _on_snapshot(self, result: tuple[int, Network | None, int, str]) -> None:
        token, net, t, error = result
        on_ready = self._snapshots.pop(token, None)
        if on_ready is not None:
            on_ready(net, t, error)

    def snapshot(self) -> Network:
        """The running state as a new design (blocks until the worker ends its
        current step: the UI uses ``request_snapshot``)."""
        box: list[Any] = []
        done = QThread.currentThread() is self.thread

        def take() -> None:
            m = self.worker.machine
            box.append(m.snapshot() if m is not None else None)

        if done:
            take()
        else:
            self._job_wait.emit(take)
        if not box or box[0] is None:
            raise RuntimeError("nothing is running")
        return box[0]  # type: ignore[no-any-return]

    def shutdown(self) -> None:
        if self.thread.isRunning():
            self._send(lambda: self.worker._set_running(False))
            self.thread.quit()
            self.thread.wait(5000)


# the matrix key of Self, for the inspectors
SELF_MATRIX = (SELF_TYPE, SELF_NAME, "network_matrix")


class ProcessRunner(QObject):
    """``Runner``'s API with the machine in a child process (``dmm_studio.host``).

    The UI thread never waits for the engine, nor the engine for the UI's
    painting (which holds the GIL in PySide6). What differs from ``Runner``:
    there are no step or machine hooks and no ``call(fn)`` (code cannot be
    shipped to the child): the inspectors record in the child instead, through
    ``set_recording``, ``set_probes``, ``set_breaks``, ``set_profiling`` and
    ``set_history``, and receive ``recorded(t, state, packet)`` with each frame,
    ``synced(record)`` whenever the run stops and ``breakHit(hit)`` when a
    break fires (the child pauses right after that step). The child starts in
    about two seconds (it imports torch); commands sent before are queued.
    """

    remote = True
    stepped = Signal(object)  # Frame
    running_changed = Signal(bool)
    halted = Signal(str)
    failed = Signal(str)
    broke = Signal(str, object)  # reason, neuron (type, name) or None
    breakHit = Signal(object)  # BreakHit
    recorded = Signal(int, object, object)  # t, state, Recorder.packet()
    synced = Signal(object)  # Recorder.export()
    _message = Signal(str, object)

    def __init__(
        self, engine: str | None = None, parent: QObject | None = None, **engine_kwargs: Any
    ) -> None:
        super().__init__(parent)
        from ..host import HostProcess

        self._message.connect(self._on_message, Qt.ConnectionType.QueuedConnection)
        self._alive = True
        self.host = HostProcess(engine, engine_kwargs, self._post)
        self._snapshots: dict[int, Callable[[Network | None, int, str], None]] = {}
        self._last_matrix: Any = None  # of the last frame (frames say "the same" for an unchanged W)
        self.last: Frame | None = None
        self.running = False
        self.t = 0
        self.loaded = False

    def _post(self, kind: str, payload: Any) -> None:
        """In the reader thread: hand the message to the UI thread."""
        if self._alive:
            with contextlib.suppress(RuntimeError):  # this object is gone (the studio closes)
                self._message.emit(kind, payload)

    @Slot(str, object)
    def _on_message(self, kind: str, payload: Any) -> None:
        if kind == "frame":
            f = payload
            w = self._last_matrix = unpack_frame(f, self._last_matrix)
            state = f["state"]
            if f["record"] is not None:
                self.recorded.emit(f["t"], state, f["record"])
            frame = Frame(f["t"], state, w, f["active"], f["stats"], f["steps"])
            self.last = frame
            self.t = frame.t
            self.stepped.emit(frame)
        elif kind == "running":
            self.running = bool(payload)
            self.running_changed.emit(self.running)
        elif kind == "sync":
            self.synced.emit(payload)
        elif kind == "broke":
            hit = payload
            self.breakHit.emit(hit)
            self.broke.emit(hit.message, tuple(hit.neuron) if hit.neuron is not None else None)
        elif kind == "halted":
            self.halted.emit(payload)
        elif kind == "failed":
            self.failed.emit(payload)
        elif kind == "reply":
            token, result, error = payload
            on_ready = self._snapshots.pop(token, None)
            if on_ready is not None:
                net, t = result if result is not None else (None, self.t)
                on_ready(net, t, error)
        elif kind == "exited" and self._alive:
            self._alive = False
            self.running = False
            self.running_changed.emit(False)
            self.failed.emit(f"the engine process ended (exit code {payload}); reopen the file to go on")

    def _send(self, *command: Any) -> None:
        try:
            self.host.send(*command)
        except RuntimeError as e:
            self.failed.emit(str(e))

    # -- commands
    def load(self, network: Network) -> None:
        """A copy of the design to run from t = 0 (the caller passes a copy)."""
        self.loaded = True
        self.t = 0
        self._send("load", network)

    def step(self, n: int = 1) -> None:
        self._send("step", n)

    def run(self) -> None:
        self._send("run")

    def pause(self) -> None:
        self._send("pause")

    def reset(self, network: Network | None = None) -> None:
        self.t = 0
        self._send("reset", network)

    def set_limit(self, steps_per_s: float) -> None:
        self._send("limit", steps_per_s)

    def edit_matrix(self, delta: dict[str, Any]) -> None:
        self._send("edit", "edit_matrix", delta)

    def edit_weight(self, to: Port, frm: Port, w: float) -> None:
        self._send("edit", "edit_weight", tuple(to), tuple(frm), w)

    def set_output(self, nid: NeuronId, output: str, value: Any) -> None:
        self._send("edit", "set_output", *nid, output, value)

    def set_param(self, nid: NeuronId, param: str, value: Any) -> None:
        self._send("edit", "set_param", *nid, param, value)

    def remove_neuron(self, nid: NeuronId) -> None:
        self._send("edit", "remove_neuron", tuple(nid))

    def rename_neuron(self, type: str, old: str, new: str) -> None:
        self._send("edit", "rename_neuron", type, old, new)

    def set_fields(self, fields: list[Any]) -> None:
        self._send("edit", "set_fields", list(fields))

    def call(self, fn: Callable[[Machine], None]) -> None:
        raise TypeError("the engine runs in another process: use the named edits, not call(fn)")

    def add_step_hook(self, fn: Callable[[Machine], Any]) -> None:
        raise TypeError("the engine runs in another process: record with set_recording, not hooks")

    add_machine_hook = add_step_hook

    # -- recording in the engine's process
    def set_recording(self, on: bool) -> None:
        self._send("record", bool(on))

    def set_probes(self, specs: list[Any]) -> None:
        self._send("probes", list(specs))

    def set_breaks(self, breaks: Any) -> None:
        self._send("breaks", breaks)

    def set_profiling(self, on: bool) -> None:
        self._send("profiling", bool(on))

    def set_history(self, capacity: int) -> None:
        self._send("capacity", int(capacity))

    # -- snapshots
    def request_snapshot(self, on_ready: Callable[[Network | None, int, str], None]) -> None:
        """The running state as a new design, taken between two steps; returns at
        once and calls ``on_ready(network, t, error)`` later in the UI thread."""
        token = self.host.next_token()
        self._snapshots[token] = on_ready
        self._send("snapshot", token)

    def snapshot(self) -> Network:
        """The running state as a new design (blocks: for scripts and tests)."""
        net, _t = self.host.request_snapshot()
        if net is None:
            raise RuntimeError("nothing is running")
        return net  # type: ignore[no-any-return]

    def shutdown(self) -> None:
        self._alive = False
        self.host.close()
