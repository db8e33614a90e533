"""The runner: the studio's handle on the engine host (Qt signals, UI thread).

This module holds ``Frame`` and ``Runner``. The engine never runs on the UI
thread: ``Runner`` talks to ``dmm_studio.host``, whose ``serve`` loop steps
the machine and records every step (history, probes, breaks, timing) beside
it, in a child process (the default: what ``dmm-studio open`` runs) or, with
``thread=True``, in a thread of this process over the same messages (the
screenshot mode, tests that need one process). One step loop, one recording
path: the transport is the only difference.

Signals (all delivered in the UI thread):

``stepped(frame: Frame)``
    A snapshot after some step, at most ~30 times a second while running, and
    always after ``step()``, ``pause()``, ``reset()``, ``load()`` and an edit.
    ``frame.t`` is the step, ``frame.state`` is ``y_t`` (a copy of its own:
    keep it), ``frame.matrix`` is ``W_t``, ``frame.active`` the active
    neurons, ``frame.stats`` ``{"t", "active", "nonzeros", "steps_per_s",
    "seconds", "threads"}``, ``frame.steps`` how many steps ran since the
    previous frame.
``running_changed(bool)``
    The machine started or stopped running.
``halted(str)`` / ``failed(str)``
    The network halted (empty matrix) / a neuron or a command failed; running
    stops. ``failed`` also says when the engine's process ended.
``broke(reason: str, neuron: (type, name) or None)`` and ``breakHit(BreakHit)``
    A break condition (``set_breaks``) fired: the run paused right after that
    step (a break is not a failure).
``recorded(t, state, packet)`` / ``synced(record)``
    While recording (``set_recording(True)``): what was recorded since the
    last frame (``Recorder.packet()``), with each frame; the whole record
    (``Recorder.export()``) whenever the run stops. The inspector keeps a
    copy of the record from these.

``trainStarted``, ``trainReports``, ``trainWeights``, ``trainPaused``, ``trainDone``, ``trainFailed``
    Training in the engine's process (``train``; ``dmm_studio.host.training``
    says what each carries).

Commands (from the UI thread; they are queued to the host, which handles each
between two steps): ``load(network)`` (a copy of the design, t = 0),
``step(n=1)``, ``run()``, ``pause()``, ``reset(network=None)``,
``set_limit(steps_per_s or 0 for none)``; edits of the running machine:
``edit_weight(to, frm, w)`` (``W_t`` gets the delta ``w - W_t[to][frm]``),
``edit_matrix(delta)``, ``set_output(nid, output, v)``, ``set_param(nid, p,
v)``, ``set_fields(fields)``, ``remove_neuron(nid)``, ``rename_neuron(type,
old, new)``; recording: ``set_recording(on)``, ``set_probes(specs)``,
``set_breaks(breaks)``, ``set_profiling(on)``, ``set_history(capacity)``;
training: ``train(network, task, steps=, device=, seed=)``, ``train_pause()``,
``train_resume()``, ``train_stop()``;
``request_snapshot(on_ready)`` (the running state as a Network, taken between
two steps; ``on_ready(network, t, error)`` is called later in the UI thread:
never blocks) and ``snapshot()`` (the same, but waits: for scripts and tests,
not for the UI).

There are no step hooks and no ``call(fn)``: code is not shipped to the host
(a child process could not run it). What the inspectors did with hooks, the
host's ``Recorder`` does, driven by the commands above.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from ..host import HostEnd, HostProcess, HostThread, unpack_frame
from ..matrix import SELF_NAME, SELF_TYPE
from ..network import Network, Port

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


# the matrix key of Self, for the inspectors
SELF_MATRIX = (SELF_TYPE, SELF_NAME, "network_matrix")


class Runner(QObject):
    """The UI's handle on the running machine (see the module docstring).

    ``thread``: serve the machine in a thread of this process instead of a
    child process. The child starts in about two seconds (it imports torch);
    commands sent before are queued."""

    stepped = Signal(object)  # Frame
    running_changed = Signal(bool)
    halted = Signal(str)
    failed = Signal(str)
    broke = Signal(str, object)  # reason, neuron (type, name) or None
    breakHit = Signal(object)  # BreakHit
    recorded = Signal(int, object, object)  # t, state, Recorder.packet()
    synced = Signal(object)  # Recorder.export()
    # training in the engine's process (``train``; dmm_studio.host.training says what each carries)
    trainStarted = Signal(object)  # {"task", "steps", "links"}
    trainReports = Signal(list)  # [{"step", "loss", "terms", "links", "pruned", "elapsed_s"}]
    trainWeights = Signal(int, object)  # step, the trained W_0 at that step
    trainPaused = Signal(bool, int)  # paused (False: resumed), step
    trainDone = Signal(object)  # {"network", "steps", "stopped", "elapsed_s"}
    trainFailed = Signal(str)  # one line; nothing of the design changed
    _message = Signal(str, object)

    def __init__(
        self,
        engine: str | None = None,
        parent: QObject | None = None,
        *,
        thread: bool = False,
        **engine_kwargs: Any,
    ) -> None:
        super().__init__(parent)
        self._message.connect(self._on_message, Qt.ConnectionType.QueuedConnection)
        self._alive = True
        self.thread = thread
        self.host: HostEnd = (
            HostThread(engine, engine_kwargs, self._post)
            if thread
            else HostProcess.start(engine, engine_kwargs, self._post)
        )
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
        elif kind == "train":
            self._on_train(*payload)
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
            where = "thread" if self.thread else "process"
            self.failed.emit(f"the engine {where} ended (exit code {payload}); reopen the file to go on")
            if self.training:
                self._on_train("failed", f"the engine {where} ended while training (exit code {payload})")

    def _on_train(self, event: str, payload: Any) -> None:
        if event == "reports":
            self.trainReports.emit(payload)
        elif event == "weights":
            self.trainWeights.emit(payload["step"], payload["matrix"])
        elif event in ("paused", "resumed"):
            self.trainPaused.emit(event == "paused", payload)
        elif event == "started":
            self.trainStarted.emit(payload)
        elif event == "done":
            self.training = False
            self.trainDone.emit(payload)
        elif event == "failed":
            self.training = False
            self.trainFailed.emit(payload)

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

    def set_param_once(self, nid: NeuronId, param: str, value: Any) -> None:
        """A param for one step, then back (``Machine.set_param_once``: a pulse)."""
        self._send("edit", "set_param_once", *nid, param, value)

    def set_mode(self, nid: NeuronId, mode: str | None) -> None:
        """Mute, bypass or restore a neuron of the running machine (``Machine.set_mode``)."""
        self._send("edit", "set_mode", *nid, mode)

    def remove_neuron(self, nid: NeuronId) -> None:
        self._send("edit", "remove_neuron", tuple(nid))

    def rename_neuron(self, type: str, old: str, new: str) -> None:
        self._send("edit", "rename_neuron", type, old, new)

    def set_limits(self, limits: dict[str, Any]) -> None:
        self._send("edit", "set_limits", dict(limits))

    def set_fields(self, fields: list[Any]) -> None:
        """The modulating fields of the running machine (a valid list)."""
        self._send("edit", "set_fields", list(fields))

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

    # -- training (in the engine's process: dmm_studio.host.training)
    training = False  # a ``train`` sent and not yet done or failed

    def train(
        self,
        network: Network,
        task: Any,
        *,
        steps: int | None = None,
        device: str = "cpu",
        seed: int | None = None,
    ) -> None:
        """Train a copy of the design (``network``: the caller passes a copy) on
        ``task`` (a ``*.train.json`` path, loaded in the engine's process, or a
        ``TrainTask``). Reports arrive on ``trainStarted``, ``trainReports``,
        ``trainWeights``, ``trainPaused``, then ``trainDone`` or ``trainFailed``.
        A run of the machine pauses while it trains."""
        self.training = True
        self._send("train", network, task, {"steps": steps, "device": device, "seed": seed})

    def train_pause(self) -> None:
        self._send("train_pause")

    def train_resume(self) -> None:
        self._send("train_resume")

    def train_stop(self) -> None:
        """Stop after the current step; ``trainDone`` brings the network as trained so far."""
        self._send("train_stop")

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
