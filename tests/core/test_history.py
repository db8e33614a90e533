"""History ring buffer and matrix diffs (dmm_studio.history)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dmm_studio.engine.base import matrix_of
from dmm_studio.fileformat import load_network
from dmm_studio.history import Change, History, estimate_bytes, matrix_diff, matrix_entries, wires_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(name: str, steps: int, history: History) -> list[dict]:
    m = load_network(EXAMPLES / name).machine(engine="reference")
    states = []
    for _ in range(steps):
        m.step()
        s = m.state
        states.append(s)
        history.push(m.t, s)
    return states


def test_ring_buffer_keeps_the_last_k_states_by_step():
    h = History(capacity=5)
    states = _run("counter.dmm.json", 12, h)
    assert len(h) == 5
    assert h.span() == (8, 12)
    assert h.steps() == [8, 9, 10, 11, 12]
    for t in range(8, 13):
        assert h.get(t) is states[t - 1]
        assert h.get(t)["accum"]["count"]["single"] == {":number": t}
    with pytest.raises(KeyError, match="step 7 is not kept"):
        h.get(7)
    with pytest.raises(KeyError):
        h.get(13)
    assert 9 in h and 7 not in h
    assert h.latest()[0] == 12


def test_capacity_can_shrink_and_grow():
    h = History(capacity=10)
    _run("counter.dmm.json", 10, h)
    h.capacity = 3
    assert h.steps() == [8, 9, 10]
    h.capacity = 6
    assert len(h) == 3
    with pytest.raises(ValueError):
        h.capacity = 0


def test_a_step_that_does_not_follow_restarts_the_buffer():
    h = History(capacity=10)
    _run("counter.dmm.json", 4, h)
    h.push(1, {"x": {}})  # a reset: t starts over
    assert h.steps() == [1]


def test_memory_is_estimated_and_bounded():
    h = History(capacity=1000)
    _run("waves.dmm.json", 50, h)
    one = estimate_bytes(h.get(50))
    assert 500 < one < 20_000
    total = h.nbytes()
    assert 0.5 * 50 * one < total < 2 * 50 * one
    # a byte budget keeps only what fits (the newest always)
    hb = History(capacity=1000, max_bytes=10 * one)
    _run("waves.dmm.json", 50, hb)
    assert 5 <= len(hb) <= 11
    assert hb.nbytes() <= 10 * one * 1.2
    assert hb.span()[1] == 50


def test_tensor_leaves_count_by_storage():
    torch = pytest.importorskip("torch")
    small = estimate_bytes({"a": {"b": {"o": torch.zeros(2, 2)}}})
    big = estimate_bytes({"a": {"b": {"o": torch.zeros(100, 100)}}})
    assert big - small == (10_000 - 4) * 4


def test_matrix_diff_kinds():
    old = {"a": {"x": {"in": {"b": {"y": {"out": 1, "o2": 2}}}}}}
    new = {"a": {"x": {"in": {"b": {"y": {"out": 3}, "z": {"out": 5}}}}}}
    d = matrix_diff(old, new)
    assert d == [  # ordered by receiving port, then sending port
        Change("removed", ("a", "x", "in"), ("b", "y", "o2"), 2, 0),
        Change("changed", ("a", "x", "in"), ("b", "y", "out"), 1, 3),
        Change("added", ("a", "x", "in"), ("b", "z", "out"), 0, 5),
    ]
    assert [str(c) for c in d] == [
        "- b/y/o2 -> a/x/in (was 2)",
        "~ b/y/out -> a/x/in: 1 -> 3",
        "+ b/z/out -> a/x/in: 5",
    ]
    assert matrix_diff(new, new) == []
    assert wires_of(new) == {(("a", "x", "in"), ("b", "y", "out")), (("a", "x", "in"), ("b", "z", "out"))}


def test_waves_diff_moves_selfs_delta_row_one_neuron_on():
    h = History(capacity=10)
    _run("waves.dmm.json", 4, h)
    delta = ("self", "self", "delta")
    # SPEC §7: after step t the row reads from update-2, update-3, update-1, ...
    for t, (gone, came) in {
        2: ("update-2", "update-3"),
        3: ("update-3", "update-1"),
        4: ("update-1", "update-2"),
    }.items():
        ch = h.changes(t)
        assert Change("removed", delta, ("identity", gone, "single"), 1, 0) in ch
        assert Change("added", delta, ("identity", came, "single"), 0, 1) in ch
        assert len(ch) == 2
    e = matrix_entries(h.matrix(4))
    assert e[(delta, ("identity", "update-2", "single"))] == 1


def test_push_and_read_from_two_threads():
    h = History(capacity=50)
    state = load_network(EXAMPLES / "counter.dmm.json").outputs
    stop = threading.Event()
    errors = []

    def reader():
        while not stop.is_set():
            try:
                first, last = h.span()
                if last is not None:
                    h.get(last)
                    h.nbytes()
            except KeyError:
                pass  # evicted between span() and get(): allowed
            except Exception as e:  # pragma: no cover - would be a bug
                errors.append(e)

    th = threading.Thread(target=reader)
    th.start()
    for t in range(1, 3000):
        h.push(t, state)
    stop.set()
    th.join()
    assert not errors
    assert h.span() == (2950, 2999)
    assert matrix_of(h.get(2999))
