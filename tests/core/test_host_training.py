"""Training in the engine host: the ``train`` messages (``host/training.py``).

A ``Host`` is driven by hand through a scripted connection: commands arrive
when the host has said something (a report of step k, "paused"), as the
studio would send them. ``dmm_studio.learn`` is the tiny fake of
``tests/fake_learn.py``: these tests are about the messages, not learning.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from dmm_studio.host import Host, dumps, loads
from dmm_studio.host import training as tr
from dmm_studio.network import Network
from tests.fake_learn import install_fake_learn


class Conn:
    """What the host sends (decoded); ``script(kind, payload)`` returns the
    commands that the studio sends in answer."""

    def __init__(self, script: Callable[[str, object], list[tuple]] | None = None) -> None:
        self.sent: list[tuple[str, object]] = []
        self.inbox: list[bytes] = []
        self.script = script or (lambda kind, payload: [])

    def send_bytes(self, data: bytes) -> None:
        kind, payload = loads(data)
        self.sent.append((kind, payload))
        self.inbox.extend(dumps(c) for c in self.script(kind, payload))

    def poll(self, timeout: float = 0.0) -> bool:
        return bool(self.inbox)

    def recv_bytes(self) -> bytes:
        if not self.inbox:
            raise EOFError  # the studio has nothing more to say: it went away
        return self.inbox.pop(0)

    def train(self) -> list[tuple[str, object]]:
        return [p for k, p in self.sent if k == "train"]

    def events(self) -> list[str]:
        return [e for e, _ in self.train()]

    def reports(self) -> list[dict]:
        return [r for e, p in self.train() if e == "reports" for r in p]


def net() -> Network:
    n = Network.empty()
    n.add_neuron("identity", "one", (0, 0))
    n.add_neuron("accum", "a", (200, 0))
    n.set_weights(
        [
            (("identity", "one", "single"), ("identity", "one", "single"), 1),
            (("accum", "a", "delta"), ("identity", "one", "single"), 0.5),
        ]
    )
    return n


@pytest.fixture
def task(tmp_path, monkeypatch):
    install_fake_learn(monkeypatch)
    monkeypatch.setattr(tr, "REPORT_HZ", 1e9)  # a message per step: the script sees each

    def make(**kw) -> str:
        p = tmp_path / "t.train.json"
        p.write_text(json.dumps({"steps": 10, "factor": 0.9, "prune": 0.3, **kw}))
        return str(p)

    return make


def on_step(k: int, *commands: tuple) -> Callable[[str, object], list[tuple]]:
    """A script: ``commands`` once the report of step ``k`` has come (the first time)."""
    fired: list[bool] = []

    def script(kind: str, payload: object) -> list[tuple]:
        if not fired and kind == "train" and payload[0] == "reports" and any(r["step"] == k for r in payload[1]):
            fired.append(True)
            return list(commands)
        return []

    return script


def test_every_step_is_reported_once_then_done_with_the_trained_network(task):
    conn = Conn()
    h = Host(conn, "reference", {})
    h.do_train(net(), task(), {})
    ev = conn.events()
    assert ev[0] == "started" and ev[-1] == "done" and "failed" not in ev
    assert conn.train()[0][1]["links"] == 3  # Self's row, the constant, the one wire
    assert conn.train()[0][1]["steps"] == 10  # the task's
    assert [r["step"] for r in conn.reports()] == list(range(1, 11))
    r = conn.reports()[-1]
    assert set(r) == {"step", "loss", "terms", "links", "pruned", "elapsed_s"}
    assert r["links"] == 2  # 0.5 * 0.9**k fell under 0.3 at k = 5: pruned after that step
    assert [r["pruned"] for r in conn.reports()] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    done = conn.train()[-1][1]
    assert done["steps"] == 10 and done["stopped"] is False
    trained = done["network"]
    assert trained.weight(("accum", "a", "delta"), ("identity", "one", "single")) == 0
    assert trained.weight(("identity", "one", "single"), ("identity", "one", "single")) == pytest.approx(0.9**10)
    # the last weights message is the trained W_0
    weights = [p for e, p in conn.train() if e == "weights"]
    assert weights[-1]["matrix"] == trained.matrix and weights[-1]["step"] == 10
    assert h.training is None


def test_stop_ends_after_that_step(task):
    conn = Conn(on_step(3, ("train_stop",)))
    h = Host(conn, "reference", {})
    h.do_train(net(), task(), {})
    done = conn.train()[-1]
    assert done[0] == "done" and done[1]["stopped"] is True and done[1]["steps"] == 3
    assert [r["step"] for r in conn.reports()] == [1, 2, 3]


def test_pause_blocks_in_the_step_and_serves_other_commands_until_resume(task):
    def script(kind, payload):
        if kind == "train" and payload[0] == "paused":
            return [("snapshot", 7), ("train_resume",)]
        return on_step(2, ("train_pause",))(kind, payload)

    conn = Conn(script)
    h = Host(conn, "reference", {})
    h.do_load(net())
    conn.sent.clear()
    h.do_train(net(), task(steps=4), {})
    kinds = [(k, p[0] if k in ("train", "reply") else None) for k, p in conn.sent]
    i = kinds.index(("train", "paused"))
    # while paused: the weights as they are, then the snapshot's reply, then resumed
    assert ("train", "weights") in kinds[i - 2 : i]
    assert kinds[i + 1] == ("reply", 7) and kinds[i + 2] == ("train", "resumed")
    assert [r["step"] for r in conn.reports()] == [1, 2, 3, 4]
    assert conn.events()[-1] == "done"


def test_quit_while_training_ends_it_and_the_serve_loop(task):
    conn = Conn(on_step(2, ("quit",)))
    h = Host(conn, "reference", {})
    h.do_train(net(), task(), {})
    assert h.quit and conn.events()[-1] == "done" and conn.reports()[-1]["step"] == 2


def test_a_bad_task_is_one_line_and_the_host_serves_on(task, tmp_path):
    bad = tmp_path / "bad.train.json"
    bad.write_text("{}")
    conn = Conn()
    h = Host(conn, "reference", {})
    h.handle(("train", net(), str(bad), {}))
    assert conn.train() == [("failed", conn.train()[0][1])]
    line = conn.train()[0][1]
    assert str(bad) in line and "\n" not in line
    h.handle(("train", net(), task(steps=2), {}))
    assert conn.events()[-1] == "done"


def test_a_fault_while_training_is_one_line(task):
    conn = Conn()
    h = Host(conn, "reference", {})
    h.do_train(net(), task(fail_at=3), {})
    ev = conn.events()
    assert ev[-1] == "failed" and "done" not in ev
    assert conn.train()[-1][1] == "RuntimeError: step 3 went wrong on two lines"
    assert [r["step"] for r in conn.reports()] == [1, 2]


def test_train_while_training_is_refused(task):
    conn = Conn(on_step(1, ("train", net(), task(), {})))
    h = Host(conn, "reference", {})
    h.do_train(net(), task(steps=3), {})
    ev = conn.events()
    assert ("failed", "already training: stop it first") in conn.train()
    assert ev[-1] == "done" and [r["step"] for r in conn.reports()] == [1, 2, 3]


def test_a_running_machine_pauses_while_it_trains(task):
    conn = Conn()
    h = Host(conn, "reference", {})
    h.do_load(net())
    h.do_run()
    assert h.running
    h.do_train(net(), task(steps=2), {})
    assert not h.running and ("running", False) in conn.sent


def test_a_training_asked_for_while_one_stops_starts_after_it(task):
    conn = Conn(on_step(2, ("train_stop",), ("train", net(), task(), {"steps": 3})))
    h = Host(conn, "reference", {})
    h.do_train(net(), task(), {})
    ev = conn.events()
    assert "failed" not in ev
    assert ev.count("started") == 2 and ev.count("done") == 2
    assert [r["step"] for r in conn.reports()] == [1, 2, 1, 2, 3]
    first, second = [p for e, p in conn.train() if e == "done"]
    assert first["stopped"] and first["steps"] == 2 and not second["stopped"] and second["steps"] == 3


def test_the_real_learn_trains_in_the_host(tmp_path):
    """dmm_studio.learn itself (no fake): every step reported, the trained network back."""
    n = Network.empty()
    n.add_neuron("identity", "in", (0, 0))
    n.add_neuron("identity", "out", (200, 0))
    w = (("identity", "out", "single"), ("identity", "in", "single"))
    n.set_weights([(*w, 0.5)])
    p = tmp_path / "real.train.json"
    p.write_text(
        json.dumps(
            {
                "format": "dmm-studio-train/1",
                "episodes": [
                    {
                        "inputs": {"identity/in/single": [1, 2, 3, 1]},
                        "targets": {"identity/out/single": [None, 2, 4, 6]},
                    }
                ],
                "optimizer": {"name": "Adam", "lr": 0.1},
                "steps": 4,
                "seed": 1,
            }
        )
    )
    conn = Conn()
    h = Host(conn, "reference", {})
    h.do_train(n, str(p), {})
    assert conn.events()[0] == "started" and conn.events()[-1] == "done", conn.train()
    reports = conn.reports()
    assert [r["step"] for r in reports] == [1, 2, 3, 4] and reports[-1]["loss"] < reports[0]["loss"]
    assert set(reports[0]["terms"]) == {"mse"}
    trained = conn.train()[-1][1]["network"]
    assert 0.5 < trained.weight(*w) < 2
