"""The engine host: a ``Machine`` served over a connection, with the
inspectors' ``Recorder`` beside it (no Qt here).

This module holds the one step loop that runs engines under the studio:
``Host`` (a machine, its recorder, the commands of ``protocol.py``),
``serve`` (its loop: steps under the pace, frames 32 times a second or fewer
when a frame would take more than 10 % of the engine's time, the whole record
when the run stops) and ``main`` (``python -m dmm_studio.host FD``: the child
process). The same ``serve`` runs in a thread of the studio's process when
asked (``parent.HostThread``): one loop, one recording path, either way.

Why a process of its own by default. CPython runs one thread at a time (the
GIL) and PySide6 holds it while it paints. With the engine in a thread of the
studio's process, every millisecond the UI spent drawing probes was a
millisecond the engine did not step: ``bench/probes.py`` measured the engine
50-70 % slower with 16 probes open. Recording stays per step and exact (a
break pauses right after the step that fired it) while the studio only draws
what arrives at frame rate.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

from ..breaks import Breaks
from ..engine.base import NetworkHalted, StepError
from ..history import History
from ..matrix import matrix_of
from ..recorder import EngineTap, NodeProfiler, ProbeSpec, Recorder
from .pace import Pace
from .protocol import SAME_MATRIX, dumps, loads, with_matrix


def limit_torch_threads() -> int:
    """Leave a core to the UI: torch's intra-op threads at most one fewer than
    the cores (on 2 cores, 1). On the project's 2-core machines, 2 threads made
    a 32 x 32 softmax-matmul ~400x slower while the UI was busy. It only ever
    lowers the count (with torch's OpenMP build the count is per thread)."""
    import torch

    want = max(1, (os.cpu_count() or 1) - 1)
    if torch.get_num_threads() > want:
        torch.set_num_threads(want)
    return int(torch.get_num_threads())


def describe(machine: Any, rate: float) -> tuple[Any, Any, list[Any], dict[str, Any]]:
    """What a frame shows of a machine: ``(y_t, W_t, active neurons, stats)``.

    The active neurons and the counts come from the engine, which the compiled
    one keeps (equal to the reference's: tests/core/test_compiled.py); walking
    W for them took ~230 ms a frame at 100k weights."""
    state = machine.state
    engine = machine.engine
    counts = engine.stats()
    stats = {"t": machine.t, "active": counts["active"], "nonzeros": counts["nonzeros"], "steps_per_s": rate}
    return state, matrix_of(state), list(engine.active()), stats


class Host:
    """A Machine served over a connection: steps, edits, recording, frames."""

    # frames on a fixed schedule (the studio draws one on each: a little over its
    # 30 a second); a frame costs ~0.1-0.5 ms here, mostly the state pickled
    max_fps = 32.0
    frame_share = 0.1
    slice_s = 0.015  # run flat out in slices at most this long, then look for commands

    def __init__(self, conn: Any, engine: str | None, engine_kwargs: dict[str, Any]) -> None:
        self.conn = conn
        self.engine = engine
        self.engine_kwargs = engine_kwargs
        self.machine: Any = None
        self.running = False
        self.quit = False
        self.pace = Pace()
        self._steps_since = 0
        self.recorder = Recorder(History(256))
        self.profiler = NodeProfiler()
        self.tap = EngineTap(self.recorder, self.profiler, raise_on_break=False)
        self.recording = False
        self._costs_at = 0.0
        # where the time goes (seconds since start): stepping, recording, frames
        self.seconds = {"step": 0.0, "record": 0.0, "frame": 0.0}

    # -- messages
    def send(self, kind: str, payload: Any = None) -> None:
        self.conn.send_bytes(dumps((kind, payload)))

    def handle(self, msg: tuple[Any, ...]) -> None:
        name, *args = msg
        fn: Callable[..., Any] | None = getattr(self, f"do_{name}", None)
        if fn is None:
            self.send("failed", f"unknown command {name!r}")
            return
        try:
            fn(*args)
        except Exception as e:  # a command that fails is reported, never a crash
            self.send("failed", f"{type(e).__name__}: {e}")

    # -- the machine
    def _make(self, network: Any) -> None:
        from ..machine import Machine

        self.machine = Machine(network, engine=self.engine, **self.engine_kwargs)
        self._tap_machine()

    def _tap_machine(self) -> None:
        self.tap.detach()
        if self.recording and self.machine is not None:
            self.tap.attach(self.machine.engine, wrap=False)

    def do_load(self, network: Any) -> None:
        self._set_running(False)
        self._make(network)
        self.frame()
        self._sync()

    def do_reset(self, network: Any = None) -> None:
        self._set_running(False)
        if network is not None:
            self._make(network)
        elif self.machine is not None:
            self.machine.reset()
            self._tap_machine()
        self.pace.rate = 0.0
        self.frame()
        self._sync()

    def do_step(self, n: int) -> None:
        self._set_running(False)
        if self._steps(n):  # (else it stopped at a break, a halt or a fault, and said so)
            self.frame()
            self._sync()

    def do_run(self) -> None:
        if self.machine is None:
            return
        self.pace.start()
        self._set_running(True)

    def do_pause(self) -> None:
        self._stop()

    def do_limit(self, sps: float) -> None:
        self.pace.set_limit(sps)

    def do_edit(self, method: str, *args: Any) -> None:
        """``Machine.<method>(*args)``: edit_weight, edit_matrix, set_output,
        set_param, set_fields, remove_neuron, rename_neuron, set_mode,
        set_param_once."""
        if method not in EDITS:
            raise ValueError(f"not an edit of a running machine: {method!r}")
        if self.machine is None:
            return
        getattr(self.machine, method)(*args)
        if self.recording and self.tap.engine is not self.machine.engine:
            self._tap_machine()
        if not self.running:
            self.frame()

    def do_snapshot(self, token: int) -> None:
        if self.machine is None:
            self.send("reply", (token, None, "nothing is loaded"))
            return
        try:
            net = self.machine.snapshot()
            net.fields = list(self.machine.engine.fields)  # as edited while running
        except Exception as e:  # reported to the one who asked
            self.send("reply", (token, None, f"{type(e).__name__}: {e}"))
            return
        self.send("reply", (token, (net, self.machine.t), ""))

    def do_quit(self) -> None:
        self.running = False
        self.quit = True

    # -- training (``training.py``): the studio's reports come as ("train", (event, payload))
    training: Any = None  # the ``Training`` under way

    def do_train(self, network: Any, task: Any, options: dict[str, Any] | None = None) -> None:
        """Train ``network`` on ``task`` (a path or a ``TrainTask``); returns when it ends."""
        from .training import Training

        if self.training is not None:
            self.send("train", ("failed", "already training: stop it first"))
            return
        if self.running:  # the machine's run waits while it trains
            self._stop()
        self.training = training = Training(self, network, task, options or {})
        try:
            training.run()
        finally:
            self.training = None
        for msg in training.after:  # a training asked for while this one stopped
            self.handle(msg)

    def do_train_pause(self) -> None:
        """(Handled by ``Training`` while it trains; nothing to pause otherwise.)"""

    do_train_resume = do_train_stop = do_train_pause

    renew: tuple[int, str | None, dict[str, Any]] | None = None

    def do_renew(self, token: int, engine: str | None, engine_kwargs: dict[str, Any]) -> None:
        """Stop serving this machine; ``serve`` starts a fresh ``Host``."""
        self.running = False
        self.quit = True
        self.renew = (token, engine, dict(engine_kwargs))

    def serve(self) -> None:
        """The step loop: commands between steps, steps while running, until
        ``quit`` (or ``renew``)."""
        conn = self.conn
        while not self.quit:
            if self.running:
                while not self.quit and conn.poll(0):
                    self.handle(loads(conn.recv_bytes()))
                if self.running and not self.quit:
                    try:
                        self.tick()
                    except Exception as e:  # a fault outside the steps (recording, a frame)
                        self.running = False
                        self.send("running", False)
                        self.send("failed", f"{type(e).__name__}: {e}")
            else:
                if self.sync_due and not conn.poll(0):
                    self._sync()
                self.handle(loads(conn.recv_bytes()))

    # -- recording
    def do_record(self, on: bool) -> None:
        self.recording = bool(on)
        self._tap_machine()
        if not self.running:
            self.frame()
            self._sync()

    def do_probes(self, specs: list[ProbeSpec]) -> None:
        want = {s.key: s for s in specs}
        for key in list(self.recorder.probes):
            if key not in want:
                self.recorder.remove_probe(key)
        for spec in specs:
            if spec.key not in self.recorder.probes:
                self.recorder.add_probe(spec)
        # the whole record goes across once the commands waiting are done: a file
        # that opens with many probes sends one command each, and one record
        self.sync_due = not self.running

    sync_due = False  # a record to send before waiting for the next command

    def do_breaks(self, breaks: Breaks) -> None:
        self.recorder.breaks = breaks

    def do_profiling(self, on: bool) -> None:
        self.profiler.take()
        self.tap.profiling = bool(on)

    def do_capacity(self, k: int) -> None:
        self.recorder.history.capacity = int(k)

    def _sync(self) -> None:
        self.sync_due = False
        if self.recording:
            self.send("sync", self.recorder.export())

    # -- stepping
    def _set_running(self, on: bool) -> None:
        if on != self.running:
            self.running = on
            self.send("running", on)

    def _stop(self) -> None:
        was = self.running
        self._set_running(False)
        self.frame()
        if was or self.recording:
            self._sync()

    def _steps(self, n: int) -> bool:
        m = self.machine
        if m is None:
            return False
        tap = self.tap if self.recording else None
        clock = time.perf_counter
        try:
            for _ in range(n):
                t0 = clock()
                m.step()
                self._steps_since += 1
                self.pace.count()
                t1 = clock()
                self.seconds["step"] += t1 - t0
                if tap is not None:
                    hit = tap.after_step(m.engine)
                    self.seconds["record"] += clock() - t1
                    if hit is not None:
                        self._stop()
                        self.send("broke", hit)
                        return False
        except NetworkHalted as e:
            self._stop()
            self.send("halted", str(e))
            return False
        except StepError as e:
            self._stop()
            self.send("failed", str(e))
            return False
        return True

    def tick(self) -> None:
        """Some steps: those due under a limit, else ~``slice_s`` flat out."""
        now = time.perf_counter()
        if self.pace.limit > 0:
            due = self.pace.due(now)
            if due and not self._steps(due):
                return
            if not due:
                self.conn.poll(min(0.05, self.pace.wait(now)))
        else:
            end = min(now + self.slice_s, self._frame_due)
            while True:
                if not self._steps(1):
                    return
                if time.perf_counter() >= end:
                    break
        now = time.perf_counter()
        self.pace.measure(now)
        if now >= self._frame_due:
            self.frame()
            # a fixed schedule (not "a period after the last"), so the rate holds; but
            # frames of a large state (pickled whole) come less often, so that they
            # never take more than ``frame_share`` of the engine's time
            cost = time.perf_counter() - now
            period = max(1.0 / self.max_fps, cost / self.frame_share)
            self._frame_due += period
            if self._frame_due < now:  # fell behind (a long step): start the schedule afresh
                self._frame_due = now + period

    _frame_due = 0.0
    threads = 0  # torch's intra-op threads in the serving thread (``limit_torch_threads``)
    _sent_matrix: Any = None

    def frame(self) -> None:
        m = self.machine
        if m is None:
            return
        t0 = time.perf_counter()
        state, w, active, stats = describe(m, self.pace.rate if self.running else 0.0)
        stats["seconds"] = dict(self.seconds)
        stats["threads"] = self.threads
        record = None
        if self.recording:
            record = self.recorder.packet()
            if self.tap.profiling and t0 - self._costs_at >= 0.5:
                self._costs_at = t0
                costs = self.profiler.costs()  # ms a step per neuron, since the last
                if costs:
                    record["costs"] = costs
        # W unchanged since the last frame (the engines hand it out while it is the
        # same object) goes as a shorthand: at 100k weights, 70 ms of pickling saved
        if w and w is self._sent_matrix:
            state = with_matrix(state, SAME_MATRIX)
        if record is not None and record.get("prev_matrix") is w and w:
            record["prev_matrix"] = SAME_MATRIX
        self._sent_matrix = w
        steps, self._steps_since = self._steps_since, 0
        self.send(
            "frame",
            {"t": m.t, "state": state, "active": active, "stats": stats, "steps": steps, "record": record},
        )
        self.seconds["frame"] += time.perf_counter() - t0


EDITS = frozenset(
    {
        "edit_weight",
        "edit_matrix",
        "set_output",
        "set_param",
        "set_fields",
        "remove_neuron",
        "rename_neuron",
        "set_limits",
        "set_mode",
        "set_param_once",
    }
)


def serve(conn: Any, engine: str | None, engine_kwargs: dict[str, Any]) -> None:
    """Serve machines over ``conn`` until told to quit or the other end goes.
    ``("renew", token, engine, engine_kwargs)`` starts afresh (a new ``Host``,
    nothing kept) and answers ``("renewed", token)``: a reused child."""
    threads = limit_torch_threads()
    host = Host(conn, engine, engine_kwargs)
    host.threads = threads
    try:
        while True:
            host.serve()
            if host.renew is None:
                return
            token, engine, engine_kwargs = host.renew
            host = Host(conn, engine, engine_kwargs)
            host.threads = threads
            host.send("renewed", token)
    except (EOFError, OSError, BrokenPipeError):
        pass  # the other end went away


def serve_connection(conn: Any) -> None:
    """Serve what ``("init", engine, engine_kwargs)``, the first message, asks
    for; close ``conn`` at the end (a process's or a thread's host)."""
    try:
        try:
            name, engine, engine_kwargs = loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if name == "init":
            serve(conn, engine, engine_kwargs)
    finally:
        conn.close()


def main(argv: list[str]) -> int:
    """``python -m dmm_studio.host FD``: serve over the socket FD (the studio starts it)."""
    from multiprocessing.connection import Connection

    serve_connection(Connection(int(argv[1])))
    # nothing to save: skip tearing down the interpreter and torch (~0.5-2 s
    # that the studio would wait for when it closes)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
