"""The runner's hooks: step and machine hooks in the worker thread, breaks that pause."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dmm_studio.fileformat import load_network
from dmm_studio.gui.runner import Runner

pytestmark = pytest.mark.gui
COUNTER = Path(__file__).resolve().parents[2] / "examples" / "counter.dmm.json"


def test_hooks_run_in_the_worker_after_each_step_and_for_each_machine(qtbot):
    runner = Runner("reference")
    seen, made, threads = [], [], set()

    def on_step(m):
        threads.add(threading.current_thread())
        seen.append(m.t)

    def on_machine(m):
        threads.add(threading.current_thread())
        made.append((id(m.engine), m.t))

    try:
        runner.load(load_network(COUNTER))
        runner.add_machine_hook(on_machine)  # added late: called at once for the machine held
        runner.add_step_hook(on_step)
        with qtbot.waitSignal(runner.stepped, timeout=5000, check_params_cb=lambda f: f.t == 5):
            runner.step(5)
        assert seen == [1, 2, 3, 4, 5]
        assert len(made) == 1 and made[0][1] == 0
        runner.reset()
        with qtbot.waitSignal(runner.stepped, timeout=5000, check_params_cb=lambda f: f.t == 2):
            runner.step(2)
        assert seen[-2:] == [1, 2]
        assert len(made) == 2 and made[1][0] != made[0][0]  # a fresh engine after reset
        assert (
            len(threads) == 1 and threading.current_thread() not in threads
        )  # the worker, never the UI thread
        runner.remove_step_hook(on_step)
        with qtbot.waitSignal(runner.stepped, timeout=5000, check_params_cb=lambda f: f.t == 3):
            runner.step(1)
        assert seen[-1] == 2
    finally:
        runner.shutdown()


def test_a_break_pauses_the_run_and_is_not_a_failure(qtbot):
    runner = Runner("reference")
    failed, broke = [], []
    runner.failed.connect(failed.append)
    runner.broke.connect(lambda reason, nid: broke.append((reason, nid)))

    class Hit:
        message = "count reached 7"
        neuron = ("accum", "count")

    runner.add_step_hook(lambda m: Hit() if m.t == 7 else None)
    try:
        runner.load(load_network(COUNTER))
        runner.set_limit(0)
        with qtbot.waitSignal(runner.broke, timeout=10_000):
            runner.run()
        qtbot.waitUntil(lambda: not runner.running, timeout=5000)
        assert broke == [("count reached 7", ("accum", "count"))]
        assert failed == []
        assert runner.worker.machine.t == 7 and runner.t == 7  # stopped right after that step
        # a string is a break too; going on from a break runs again
        runner.add_step_hook(lambda m: "stop at 9" if m.t == 9 else None)
        with qtbot.waitSignal(runner.broke, timeout=10_000) as sig:
            runner.run()
        assert sig.args == ["stop at 9", None]
        qtbot.waitUntil(lambda: not runner.running, timeout=5000)
        assert runner.worker.machine.t == 9 and failed == []
    finally:
        runner.shutdown()


def test_the_worker_leaves_a_core_to_the_ui(qtbot):
    import os

    import torch

    runner = Runner("reference")
    seen = []
    try:
        runner.add_machine_hook(lambda m: seen.append(torch.get_num_threads()))  # in the worker
        runner.load(load_network(COUNTER))
        qtbot.waitUntil(lambda: bool(seen), timeout=5000)
        assert seen[0] <= max(1, (os.cpu_count() or 1) - 1)
    finally:
        runner.shutdown()
