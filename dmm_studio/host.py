"""An engine in a process of its own, so that the studio's UI and the engine
never wait for each other.

Why. CPython runs one thread at a time (the GIL) and PySide6 holds it while
it paints. With the engine in a thread of the studio's process, every
millisecond the UI spent drawing probes was a millisecond the engine did not
step: ``bench/probes.py`` measured the engine 50-70 % slower with 16 probes
open. Here the engine steps in a child process, with the inspectors'
``Recorder`` (history, probe buffers, breaks, timing) beside it, so that
recording stays per step and exact (a break pauses right after the step that
fired it) while the studio only draws what arrives at frame rate.

``HostProcess`` starts the child and talks to it; ``serve`` is the child's
main loop and ``Host`` the machine it serves. No Qt here: the studio's
``ProcessRunner`` (``dmm_studio.gui.runner``) wraps ``HostProcess`` in signals.

Protocol. The parent sends ``(command, *args)`` tuples (the ``Host.do_*``
methods); the child sends ``(kind, payload)`` messages:

``("frame", dict)``
    ``t``, ``state`` (``y_t``), ``active``, ``stats``, ``steps`` (since the
    previous frame) and ``record`` (``Recorder.packet()``: what was recorded
    since the previous frame, or None when not recording). At most
    ``max_fps`` a second while running; after every command otherwise.
``("running", bool)``, ``("halted", str)``, ``("failed", str)``
``("broke", BreakHit)``
    A break fired: the run paused right after that step.
``("sync", dict)``
    The whole record (``Recorder.export()``), sent whenever the run stops,
    so that a paused studio can scrub every kept step.
``("reply", (token, result, error))``
    The answer to ``("snapshot", token)``.

Messages are pickled with tensors as numpy arrays (``dumps``): torch's own
pickling took ~1 ms for a state of six 32 x 32 images, this ~70 us. Tensors
arrive on the CPU.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .breaks import Breaks
from .engine.base import NetworkHalted, StepError
from .history import History
from .matrix import MATRIX_OUTPUT, matrix_of
from .recorder import EngineTap, NodeProfiler, ProbeSpec, Recorder
from .registry import SELF_NAME, SELF_TYPE

# ------------------------------------------------------------------ pickling


def _tensor_from_numpy(a: Any) -> Any:
    import torch

    return torch.from_numpy(a)


def _reduce_tensor(t: Any) -> Any:
    x = t.detach()
    if x.device.type != "cpu":
        x = x.cpu()
    try:
        return _tensor_from_numpy, (x.numpy(),)
    except (TypeError, RuntimeError):  # a dtype numpy lacks (bfloat16): torch's own way
        return x.__reduce_ex__(pickle.HIGHEST_PROTOCOL)


_TABLE: dict[Any, Any] | None = None


def dumps(obj: Any) -> bytes:
    """Pickle a message (tensors as numpy arrays, on the CPU)."""
    global _TABLE
    torch = sys.modules.get("torch")  # no tensor exists before torch is imported
    if _TABLE is None and torch is not None:
        import copyreg

        _TABLE = {**copyreg.dispatch_table, torch.Tensor: _reduce_tensor}
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    if _TABLE is not None:
        p.dispatch_table = _TABLE
    p.dump(obj)
    return buf.getvalue()


loads = pickle.loads


class _SameMatrix:
    """Stands for "W as in the previous frame" (pickled by name: one object)."""

    def __reduce__(self) -> str:
        return "SAME_MATRIX"

    def __repr__(self) -> str:
        return "SAME_MATRIX"


SAME_MATRIX = _SameMatrix()


def _with_matrix(state: Any, w: Any) -> Any:
    """``state`` with Self's matrix replaced (the levels above it copied)."""
    selfs = dict(state[SELF_TYPE])
    outs = dict(selfs[SELF_NAME])
    outs[MATRIX_OUTPUT] = w
    selfs[SELF_NAME] = outs
    return {**state, SELF_TYPE: selfs}


def unpack_frame(frame: dict[str, Any], last_matrix: Any) -> Any:
    """Undo the frame's shorthand in place: ``SAME_MATRIX`` becomes the matrix of
    the frame before (``last_matrix``); returns this frame's matrix."""
    state = frame["state"]
    w = matrix_of(state)
    if w is SAME_MATRIX:
        w = last_matrix
        frame["state"] = state = _with_matrix(state, w)
    record = frame.get("record")
    if record is not None and record.get("prev_matrix") is SAME_MATRIX:
        record["prev_matrix"] = w
    return w


# ------------------------------------------------------------------ the child


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


class Pace:
    """The pace of a run: a steps-per-second ``limit`` (0: flat out), the steps
    due under it, and the rate measured (both runners use it)."""

    def __init__(self) -> None:
        self.limit = 0.0
        self.rate = 0.0
        self._next = 0.0
        self._t0, self._n = time.perf_counter(), 0

    def start(self) -> None:
        now = time.perf_counter()
        self._next, self._t0, self._n = now, now, 0

    def set_limit(self, steps_per_s: float) -> None:
        self.limit = max(0.0, float(steps_per_s))
        self._next = time.perf_counter()

    def due(self, now: float) -> int:
        """How many steps are due by ``now`` under the limit (never more than a
        second's worth: a run that fell behind does not race to catch up)."""
        due = 0
        period = 1.0 / self.limit
        while self._next <= now and due < max(1, int(self.limit)):
            due += 1
            self._next += period
        if self._next < now - 1.0:
            self._next = now
        return due

    def wait(self, now: float) -> float:
        """Seconds until the next step is due."""
        return max(0.0, self._next - now)

    def count(self, n: int = 1) -> None:
        self._n += n

    def measure(self, now: float) -> None:
        """Update ``rate`` (steps per second), twice a second."""
        if now - self._t0 >= 0.5:
            self.rate = self._n / (now - self._t0)
            self._t0, self._n = now, 0


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
        from .machine import Machine

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
        set_param, set_fields, remove_neuron, rename_neuron."""
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
        except Exception as e:  # reported to the one who asked
            self.send("reply", (token, None, f"{type(e).__name__}: {e}"))
            return
        self.send("reply", (token, (net, self.machine.t), ""))

    def do_quit(self) -> None:
        self.running = False
        self.quit = True

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
    _sent_matrix: Any = None

    def frame(self) -> None:
        m = self.machine
        if m is None:
            return
        t0 = time.perf_counter()
        state, w, active, stats = describe(m, self.pace.rate if self.running else 0.0)
        stats["seconds"] = dict(self.seconds)
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
            state = _with_matrix(state, SAME_MATRIX)
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
    {"edit_weight", "edit_matrix", "set_output", "set_param", "set_fields", "remove_neuron", "rename_neuron"}
)


def serve(conn: Any, engine: str | None, engine_kwargs: dict[str, Any]) -> None:
    """The child process: serve one machine until told to quit or the parent goes."""
    limit_torch_threads()
    host = Host(conn, engine, engine_kwargs)
    try:
        while not host.quit:
            if host.running:
                while conn.poll(0):
                    host.handle(loads(conn.recv_bytes()))
                if host.running and not host.quit:
                    try:
                        host.tick()
                    except Exception as e:  # a fault outside the steps (recording, a frame)
                        host.running = False
                        host.send("running", False)
                        host.send("failed", f"{type(e).__name__}: {e}")
            else:
                if host.sync_due and not conn.poll(0):
                    host._sync()
                host.handle(loads(conn.recv_bytes()))
    except (EOFError, OSError, BrokenPipeError):
        pass  # the parent went away


# ------------------------------------------------------------------ the parent


def main(argv: list[str]) -> int:
    """``python -m dmm_studio.host FD``: serve over the socket FD (the studio starts it)."""
    from multiprocessing.connection import Connection

    conn = Connection(int(argv[1]))
    try:
        name, engine, engine_kwargs = loads(conn.recv_bytes())
    except (EOFError, OSError):
        return 0
    if name != "init":
        return 2
    serve(conn, engine, engine_kwargs)
    # nothing to save: skip tearing down the interpreter and torch (~0.5-2 s
    # that the studio would wait for when it closes)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _child_env() -> dict[str, str]:
    """This environment, with the folders this process imports dmm_studio (and
    its neuron packs) from first on PYTHONPATH: the child imports the same code
    even when the parent found it by a path of its own (a script, a notebook)."""
    import importlib.util

    roots: list[str] = []
    for name in ("dmm_studio", "dmm_studio_nodes"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            folder = os.path.dirname(spec.origin)
            root = os.path.dirname(folder)
            # a package installed under another folder name (nodes/ is installed as
            # dmm_studio_nodes) is found by its installer's hook, which the child has too
            if os.path.basename(folder) == name and root not in roots:
                roots.append(root)
    env = dict(os.environ)
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join(roots + ([old] if old else []))
    return env


class HostProcess:
    """Starts ``serve`` in a child process and talks to it.

    The child is ``python -m dmm_studio.host`` over a socket pair (not
    ``multiprocessing``'s spawn, which imports the parent's main script again
    and so fails in scripts without a ``__main__`` guard).
    ``on_message(kind, payload)`` is called in a reader thread for every
    message (the studio queues them to its UI thread); ``("exited", code)``
    comes last, when the child ends. ``send(command, *args)`` from one thread at
    a time; ``request_snapshot(timeout)`` waits for the reply (for scripts).
    """

    def __init__(
        self,
        engine: str | None = None,
        engine_kwargs: dict[str, Any] | None = None,
        on_message: Callable[[str, Any], None] | None = None,
    ) -> None:
        from multiprocessing.connection import Connection

        mine, theirs = socket.socketpair()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dmm_studio.host", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=_child_env(),
        )
        theirs.close()
        self.conn = Connection(mine.detach())
        self.on_message = on_message or (lambda kind, payload: None)
        self._lock = threading.Lock()
        self._replies: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._seq = 0
        self.closing = False
        self.send("init", engine, dict(engine_kwargs or {}))
        self.reader = threading.Thread(target=self._read, name="dmm-engine-reader", daemon=True)
        self.reader.start()

    def send(self, *command: Any) -> None:
        data = dumps(command)
        with self._lock:
            try:
                self.conn.send_bytes(data)
            except (OSError, BrokenPipeError, ValueError):
                if not self.closing:
                    raise RuntimeError("the engine process is not running") from None

    def _read(self) -> None:
        while True:
            try:
                data = self.conn.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                kind, payload = loads(data)
            except Exception as e:  # a message that cannot be read: said, not a dead reader
                self.on_message("failed", f"a message from the engine process is unreadable: {e}")
                continue
            if kind == "reply":
                token = payload[0]
                waiter = self._replies.pop(token, None)
                if waiter is not None:
                    waiter[1].append(payload)
                    waiter[0].set()
                    continue
            self.on_message(kind, payload)
        try:
            code = self.proc.wait(2.0)
        except subprocess.TimeoutExpired:
            code = None
        self.on_message("exited", code)

    def next_token(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def request_snapshot(self, timeout: float = 30.0) -> tuple[Any, int]:
        """The running state as ``(Network, t)`` (blocks; raises on failure)."""
        token = self.next_token()
        event: threading.Event = threading.Event()
        box: list[Any] = []
        self._replies[token] = (event, box)
        self.send("snapshot", token)
        if not event.wait(timeout):
            self._replies.pop(token, None)
            raise TimeoutError("the engine process did not answer")
        _, result, error = box[0]
        if error:
            raise RuntimeError(error)
        return result  # type: ignore[no-any-return]

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, timeout: float = 3.0) -> None:
        """Ask the child to quit; end it if it does not."""
        self.closing = True
        with contextlib.suppress(RuntimeError):
            self.send("quit")
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(2.0)
        self.reader.join(2.0)
        self.conn.close()


if __name__ == "__main__":
    # run the imported module's main, so that what the child pickles names
    # dmm_studio.host (not __main__), which the parent can find
    from dmm_studio.host import main as _main

    sys.exit(_main(sys.argv))
