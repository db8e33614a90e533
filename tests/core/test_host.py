"""The engine host: a machine served in a child process, recorded there.

Most tests drive ``Host`` in this process through a fake connection (what it
would send is kept); one starts the real child (``python -m dmm_studio.host``).
"""

from __future__ import annotations

import queue
import time
from pathlib import Path

import numpy as np
import torch

from dmm_studio.breaks import Breaks, ProbeCondition
from dmm_studio.fileformat import load_network
from dmm_studio.history import History
from dmm_studio.host import SAME_MATRIX, Host, HostProcess, dumps, loads, unpack_frame
from dmm_studio.recorder import ProbeSpec, Recorder
from dmm_studio.vvalue import get_in

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COUNT = ProbeSpec("accum", "count", "single")


class Conn:
    """What the host sends, decoded as the studio does; commands are never waiting."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []
        self.sizes: list[int] = []
        self.matrix = None

    def send_bytes(self, data: bytes) -> None:
        kind, payload = loads(data)
        if kind == "frame":
            self.matrix = unpack_frame(payload, self.matrix)
        self.sent.append((kind, payload))
        self.sizes.append(len(data))

    def poll(self, timeout: float = 0.0) -> bool:
        return False

    def kinds(self) -> list[str]:
        return [k for k, _ in self.sent]

    def last(self, kind: str):
        return [p for k, p in self.sent if k == kind][-1]


def host(example: str = "counter", **kw) -> Host:
    h = Host(Conn(), kw.pop("engine", "reference"), kw)
    h.do_load(load_network(EXAMPLES / f"{example}.dmm.json"))
    return h


def run_until_stopped(h: Host, ticks: int = 10_000) -> None:
    h.do_run()
    for _ in range(ticks):
        if not h.running:
            return
        h.tick()
    raise AssertionError("the run did not stop")


def test_messages_carry_tensors_as_cpu_arrays_of_the_same_values():
    state = {
        "a": {"x": {"img": {":tensor": torch.arange(12.0).reshape(3, 4)}}},
        "b": {"y": {"t": {":tensor": torch.arange(6, dtype=torch.int64).reshape(2, 3).T}}},  # strided
        "c": {"z": {"h": {":tensor": torch.ones(2, dtype=torch.bfloat16)}}},  # no numpy dtype
        "n": {"m": {"o": {":number": 2.5}}},
    }
    back = loads(dumps(("frame", state)))[1]
    for f, n, o, k in (("a", "x", "img", ":tensor"), ("b", "y", "t", ":tensor"), ("c", "z", "h", ":tensor")):
        x, y = state[f][n][o][k], back[f][n][o][k]
        assert isinstance(y, torch.Tensor) and y.dtype == x.dtype and y.device.type == "cpu"
        assert torch.equal(x, y)
    assert back["n"] == state["n"]


def test_a_break_stops_the_run_right_after_the_step_that_fired_it():
    h = host()
    h.do_breaks(Breaks([ProbeCondition(("accum", "count", "single"), ">", 37)]))
    h.do_record(True)
    run_until_stopped(h)
    hit = h.conn.last("broke")
    assert hit.t == 38 and h.machine.t == 38
    assert hit.neuron == ("accum", "count")
    # stopped: the last frame is step 38 and the whole record follows it
    assert h.conn.last("frame")["t"] == 38
    record = h.conn.last("sync")
    assert [t for t, _ in record["history"]][-1] == 38
    assert h.conn.kinds().index("sync") < h.conn.kinds().index("broke")


def test_the_record_sent_across_is_every_step_and_the_copy_matches():
    h = host()
    h.do_probes([COUNT])
    h.do_record(True)
    copy = Recorder(History(256))
    copy.add_probe(COUNT)
    h.do_step(3)  # stepping while paused sends a frame, then the whole record
    copy.load_export(h.conn.last("sync"))
    assert copy.history.steps() == [0, 1, 2, 3]
    h.do_run()
    seen = len(h.conn.sent)
    for _ in range(20):
        h.tick()
        for kind, f in h.conn.sent[seen:]:
            if kind == "frame" and f["record"] is not None:
                copy.ingest(f["t"], f["state"], f["record"])
        seen = len(h.conn.sent)
    h.do_pause()
    t = h.machine.t
    assert t > 3
    # while it ran the copy kept the latest state, said what the engine keeps ...
    assert copy.history.remote is None or copy.history.remote[1] <= t
    # ... and received every step's scalar: no gaps, no repeats
    ts, ys = copy.probes[COUNT.key].scalars()
    assert ts.tolist() == list(range(ts[0], ts[0] + len(ts)))
    assert len(ts) > 20 and ts[-1] <= t
    assert np.array_equal(ys, ts.astype(float))  # the counter counts the steps
    copy.load_export(h.conn.last("sync"))
    assert copy.history.remote is None
    assert copy.history.span() == (max(0, t - 255), t)
    assert get_in(copy.history.get(t), COUNT.path) == {":number": t}
    ts2, _ = copy.probes[COUNT.key].scalars()
    assert ts2[-1] == t


def test_a_packet_carries_the_previous_matrix_and_input_probes():
    h = host("waves")
    spec = ProbeSpec("self", "self", "delta", side="input")
    h.do_probes([spec])
    h.do_record(True)
    h.do_step(4)
    copy = Recorder(History(16))
    copy.add_probe(spec)
    f = h.conn.last("frame")
    copy.ingest(f["t"], f["state"], f["record"])
    assert copy.history.remote == (0, 4, 5)
    assert copy.history.steps() == [4]  # only the latest state is here while running ...
    # ... but its changes are known (W_3 came along), and the input probe's value
    sync = Recorder(History(16))
    sync.add_probe(spec)
    sync.load_export(h.conn.last("sync"))
    assert copy.history.changes(4) == sync.history.changes(4) != []
    assert copy.probes[spec.key].latest() == (4, sync.value_at(spec, 4))


def test_edits_and_failures_are_named():
    h = host()
    h.do_step(2)
    h.do_edit("edit_weight", ("accum", "count", "delta"), ("identity", "one", "single"), 5)
    h.do_step(1)
    assert get_in(h.machine.state, COUNT.path) == {":number": 7}
    h.handle(("edit", "shutil.rmtree", "/"))
    assert "not an edit of a running machine" in h.conn.last("failed")
    h.handle(("nonsense",))
    assert "unknown command 'nonsense'" in h.conn.last("failed")


def test_the_child_process_runs_edits_and_snapshots():
    got: queue.Queue = queue.Queue()
    proc = HostProcess("reference", {}, lambda kind, payload: got.put((kind, payload)))
    try:
        proc.send("load", load_network(EXAMPLES / "counter.dmm.json"))
        proc.send("step", 5)
        proc.send("edit", "set_output", "accum", "count", "single", {":number": 100})
        proc.send("step", 1)
        net, t = proc.request_snapshot(timeout=60)
        assert t == 6
        assert get_in(net.outputs, COUNT.path) == {":number": 101}
        frames = []
        while not got.empty():
            kind, payload = got.get()
            if kind == "frame":
                frames.append(payload["t"])
        assert frames[0] == 0 and 5 in frames
    finally:
        proc.close()
    kind, code = got.get(timeout=10)
    while kind != "exited":
        kind, code = got.get(timeout=10)
    assert code == 0
    assert not proc.alive


def test_a_reused_child_starts_afresh_and_says_nothing_of_its_last_owner(monkeypatch):
    monkeypatch.setattr(HostProcess, "reuse", True)
    monkeypatch.setattr(HostProcess, "_pool", [])
    first: queue.Queue = queue.Queue()
    a = HostProcess.start("reference", {}, lambda kind, payload: first.put((kind, payload)))
    a.send("load", load_network(EXAMPLES / "counter.dmm.json"))
    a.send("probes", [COUNT])
    a.send("record", True)
    a.send("limit", 0)
    a.send("run")  # left running: the pool stops it
    assert a.request_snapshot(timeout=60)[1] >= 0
    a.close()
    assert HostProcess._pool == [a] and a.alive
    second: queue.Queue = queue.Queue()
    try:
        b = HostProcess.start("compiled", {}, lambda kind, payload: second.put((kind, payload)))
        assert b is a and HostProcess._pool == []
        b.send("load", load_network(EXAMPLES / "counter.dmm.json"))
        b.send("step", 2)
        net, t = b.request_snapshot(timeout=30)
        assert t == 2 and get_in(net.outputs, COUNT.path) == {":number": 2}
        seen = []
        while not second.empty():
            seen.append(second.get())
        frames = [p for k, p in seen if k == "frame"]
        # from the load on, and nothing of the first owner's run: no record (not recording), no sync
        assert [f["t"] for f in frames] == [0, 2]
        assert all(f["record"] is None for f in frames) and "sync" not in [k for k, _ in seen]
        assert "running" not in [k for k, _ in seen]
    finally:
        monkeypatch.setattr(HostProcess, "reuse", False)
        a.close()
    assert not a.alive


def test_the_thread_host_serves_the_same_messages():
    from dmm_studio.host import HostThread

    got: queue.Queue = queue.Queue()
    h = HostThread("reference", {}, lambda kind, payload: got.put((kind, payload)))
    try:
        h.send("load", load_network(EXAMPLES / "counter.dmm.json"))
        h.send("record", True)
        h.send("probes", [COUNT])
        h.send("step", 3)
        net, t = h.request_snapshot(timeout=30)
        assert t == 3 and get_in(net.outputs, COUNT.path) == {":number": 3}
        seen = []
        while not got.empty():
            seen.append(got.get())
        syncs = [p for k, p in seen if k == "sync"]
        assert syncs and syncs[-1]["t"] == 3 and len(syncs[-1]["history"]) == 4
    finally:
        h.close()
    assert not h.alive


def test_pace_gives_the_steps_due_under_a_limit_and_never_a_burst():
    from dmm_studio.host import Pace

    pace = Pace()
    pace.set_limit(10)  # a step every 0.1 s, the first at once
    t0 = pace._next
    assert pace.due(t0) == 1
    assert pace.due(t0 + 0.05) == 0 and abs(pace.wait(t0 + 0.05) - 0.05) < 1e-9
    assert pace.due(t0 + 0.35) == 3  # the steps of 0.1, 0.2 and 0.3
    # far behind (the machine was busy): at most a second's worth, then the schedule restarts
    assert pace.due(t0 + 60) == 10
    assert pace.due(t0 + 60) == 1 and pace.due(t0 + 60.05) == 0
    pace.start()
    pace.count(50)
    pace.measure(pace._t0 + 0.25)
    assert pace.rate == 0.0  # measured twice a second, not before
    pace.measure(pace._t0 + 0.5)
    assert pace.rate == 100.0


def test_frames_of_a_large_state_come_less_often_not_at_the_engines_expense():
    h = host()
    real = h.frame

    def slow_frame():  # as pickling a large state would be
        time.sleep(0.01)
        real()

    h.frame = slow_frame
    h.do_run()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 1.0:
        h.tick()
    frames = h.conn.kinds().count("frame") - 1  # (one came with the load)
    assert 3 <= frames <= 13  # ~10 a second (10 ms each, 10 % of the time), not 32


def test_a_fault_outside_the_steps_stops_the_run_and_is_said(monkeypatch):
    import threading
    from multiprocessing import Pipe

    from dmm_studio import host as host_module

    def broken_packet(self):
        raise RuntimeError("no packet today")

    monkeypatch.setattr(Recorder, "packet", broken_packet)
    parent, child = Pipe()
    server = threading.Thread(target=host_module.serve, args=(child, "reference", {}), daemon=True)
    server.start()
    for cmd in (("load", load_network(EXAMPLES / "counter.dmm.json")), ("record", True), ("run",)):
        parent.send_bytes(dumps(cmd))
    said = []
    while ("running", False) not in said[2:]:  # (the load's and the record's are said before)
        assert parent.poll(10), said
        said.append(loads(parent.recv_bytes()))
    assert ("failed", "RuntimeError: no packet today") in said
    parent.send_bytes(dumps(("quit",)))
    server.join(5)
    assert not server.is_alive()  # it served the quit: the fault did not end it


def test_an_unchanged_matrix_is_sent_once():
    """The compiled engine hands W out by reference while it is unchanged; a
    frame then says "the same matrix" instead of pickling it again."""
    h = host("waves", engine="compiled", threshold=0)  # W changes at every step (the wave moves)
    h.do_step(1)
    assert h.conn.last("frame")["state"]["self"]["self"]["network_matrix"] == h.machine.matrix
    c = host(engine="compiled", threshold=0)  # the counter's W never changes
    c.do_record(True)
    c.do_step(1)
    sent = []
    c.conn.send_bytes = lambda data, real=c.conn.send_bytes: (sent.append(loads(data)), real(data))
    c.do_step(1)
    raw = next(p for k, p in sent if k == "frame")
    assert raw["state"]["self"]["self"]["network_matrix"] is SAME_MATRIX  # what went across
    assert raw["record"]["prev_matrix"] is SAME_MATRIX
    frame = c.conn.last("frame")  # as the studio unpacks it
    assert frame["t"] == 2 and frame["state"] == c.machine.state
    assert frame["record"]["prev_matrix"] == c.machine.matrix
    c.do_edit("edit_weight", ("accum", "count", "delta"), ("identity", "one", "single"), 3)
    c.do_step(1)  # W changed: sent whole, and the studio's copy follows
    assert c.conn.last("frame")["state"]["self"]["self"]["network_matrix"] == c.machine.matrix
    assert get_in(c.machine.matrix, ("accum", "count", "delta", "identity", "one", "single")) == 3


def test_a_frame_of_the_same_step_again_keeps_what_the_probes_hold():
    """A run paused right after a frame sends a frame of that step again: the
    studio's copy keeps every value it had (it cleared them before)."""
    rec = Recorder()
    delta = ProbeSpec("accum", "count", "delta", side="input")
    rec.add_probe(delta)
    rec.add_probe(COUNT)

    def frame(t):
        state = {"accum": {"count": {"single": {":number": t}}}}
        rec.ingest(t, state, {"inputs": {delta.key: {":number": 1}}, "scalars": {}, "kept": (0, t, t + 1)})

    for t in (1, 2, 3, 3):
        frame(t)
    ts, ys = rec.probes[delta.key].scalars()
    assert ts.tolist() == [1, 2, 3] and ys.tolist() == [1.0, 1.0, 1.0]
    assert [t for t, _ in rec.probes[COUNT.key].values()] == [1, 2, 3]
    assert rec.probes[COUNT.key].latest() == (3, {":number": 3})
