"""The runner: one step loop (the engine host's), reached in a child process
(the default) or in a thread of this process over the same messages.

Hooks and ``call(fn)`` on a thread runner are gone: code cannot be shipped to
the engine's process. What their tests checked is said through the protocol
here: breaks (``set_breaks``) pause right after their step and are not
failures, and the engine leaves a core to the UI (``frame.stats["threads"]``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dmm_studio.breaks import Breaks, ProbeCondition
from dmm_studio.fileformat import load_network
from dmm_studio.gui.runner import Runner
from dmm_studio.host import HostProcess

pytestmark = pytest.mark.gui
COUNTER = Path(__file__).resolve().parents[2] / "examples" / "counter.dmm.json"
COUNT = ("accum", "count", "single")
START = 60_000  # ms: a child process imports torch first


def frames_of(runner: Runner) -> list:
    seen: list = []
    runner.stepped.connect(seen.append)
    return seen


# the thread transport is tested beside the process one: the screenshot mode uses it
@pytest.mark.parametrize("thread", [False, True], ids=["process", "thread"])
def test_both_transports_serve_the_same_steps_and_frames(qtbot, thread):
    runner = Runner("reference", thread=thread)
    frames = frames_of(runner)
    try:
        assert runner.thread is thread
        runner.load(load_network(COUNTER))
        with qtbot.waitSignal(runner.stepped, timeout=START, check_params_cb=lambda f: f.t == 5):
            runner.step(5)
        assert [f.t for f in frames] == [0, 5]  # the load, then one frame for step(5)
        assert frames[-1].state["accum"]["count"]["single"] == {":number": 5}
        assert frames[-1].steps == 5 and ("accum", "count") in frames[-1].active
        runner.reset()
        with qtbot.waitSignal(runner.stepped, timeout=5000, check_params_cb=lambda f: f.t == 2):
            runner.step(2)
        assert frames[-1].state["accum"]["count"]["single"] == {":number": 2}
        net, t = runner.host.request_snapshot()
        assert t == 2 and net.outputs["accum"]["count"]["single"] == {":number": 2}
    finally:
        runner.shutdown()
    if thread:
        assert not runner.host.alive  # the thread ended
    else:  # ended, or kept for the next test (conftest: HostProcess.reuse)
        assert not runner.host.alive or runner.host in HostProcess._pool
    assert not hasattr(runner, "call") and not hasattr(runner, "add_step_hook")


@pytest.mark.parametrize("thread", [False, True], ids=["process", "thread"])
def test_a_break_pauses_the_run_right_after_its_step_and_is_not_a_failure(qtbot, thread):
    runner = Runner("reference", thread=thread)
    failed, broke = [], []
    runner.failed.connect(failed.append)
    runner.broke.connect(lambda reason, nid: broke.append((reason, nid)))
    try:
        runner.load(load_network(COUNTER))
        runner.set_breaks(Breaks([ProbeCondition(COUNT, ">=", 7)]))
        runner.set_recording(True)
        runner.set_limit(0)
        with qtbot.waitSignal(runner.broke, timeout=START):
            runner.run()
        qtbot.waitUntil(lambda: not runner.running, timeout=5000)
        assert len(broke) == 1 and "accum/count/single" in broke[0][0] and broke[0][1] == ("accum", "count")
        assert failed == []
        assert runner.host.request_snapshot()[1] == 7  # stopped right after that step
        qtbot.waitUntil(lambda: runner.t == 7, timeout=5000)
        # going on from a break steps again (and breaks again: the count stays >= 7)
        with qtbot.waitSignal(runner.broke, timeout=10_000):
            runner.step(3)
        assert runner.host.request_snapshot()[1] == 8 and failed == []
    finally:
        runner.shutdown()


def test_the_engine_leaves_a_core_to_the_ui(qtbot):
    runner = Runner("reference")
    try:
        runner.load(load_network(COUNTER))
        with qtbot.waitSignal(runner.stepped, timeout=START) as sig:
            pass
        threads = sig.args[0].stats["threads"]
        assert 1 <= threads <= max(1, (os.cpu_count() or 1) - 1)
    finally:
        runner.shutdown()
