"""The studio with its engine in a process of its own (``Runner``'s default, what
``dmm-studio open`` uses): probes fed from the child, a record synced when the
run stops, breaks that pause right after their step, edits and snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_nets import nan_network

from dmm_studio.breaks import Breaks, NonFinite
from dmm_studio.fileformat import load_network
from dmm_studio.recorder import ProbeSpec
from dmm_studio.vvalue import get_in

pytestmark = pytest.mark.gui
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
COUNT = ProbeSpec("accum", "count", "single")
START = 60_000  # ms: the child imports torch (about 2 s here, more on a loaded machine)


@pytest.fixture
def studio(qtbot):
    from dmm_studio.gui.document import Document
    from dmm_studio.gui.inspect import install
    from dmm_studio.gui.main_window import MainWindow

    w = MainWindow(Document(), engine="reference", process=True)
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    insp = install(w)
    yield w, insp
    w.runner.shutdown()


def open_example(qtbot, win, name: str) -> None:
    with qtbot.waitSignal(win.runner.stepped, timeout=START):
        win.open_network(load_network(EXAMPLES / f"{name}.dmm.json"), str(EXAMPLES / f"{name}.dmm.json"))


def stop(qtbot, win, insp) -> None:
    """Pause and wait for the whole record."""
    with qtbot.waitSignal(insp.runner.synced, timeout=10_000):
        win.runner.pause()


def test_probes_see_every_step_and_a_paused_run_scrubs_every_kept_one(studio, qtbot):
    win, insp = studio
    assert not win.runner.thread and win.runner.host.alive
    open_example(qtbot, win, "counter")
    insp.add_probe(COUNT)
    delta = insp.add_probe(ProbeSpec("accum", "count", "delta", side="input"))
    win.limit_box.setValue(0)  # flat out
    win.run()
    # (a warm child can pass step 400 within two frames: wait for a few frames too)
    qtbot.waitUntil(
        lambda: (
            win.runner.t > 400
            and insp.recorder.history.remote is not None
            and sum(1 for x, _ in delta.buf.values() if x >= 1) >= 3
        ),
        timeout=20_000,
    )
    # running: the history is kept in the engine; the panel says so and scrubs nothing
    hv = insp.history_view
    hv.refresh()
    assert not hv.slider.isEnabled() and "pause to scrub" in hv.label.text()
    stop(qtbot, win, insp)
    t = win.runner.t
    h = insp.recorder.history
    assert h.remote is None and h.span() == (t - 255, t)
    ts, ys = insp.recorder.probes[COUNT.key].scalars()
    assert ts.tolist() == list(range(t - len(ts) + 1, t + 1))  # every step, recorded in the child
    assert ys.tolist() == [float(x) for x in ts]
    # an input probe gets a value a frame (computed in the engine's process): a scalar plots
    its, iys = delta.buf.scalars()
    later = [y for x, y in zip(its.tolist(), iys.tolist(), strict=True) if x >= 1]
    assert len(later) >= 3 and set(later) == {1.0} and its[-1] <= t  # (at t = 0 no input was computed)
    # scrub back: the probe and the history show that step
    hv.refresh()
    assert hv.slider.isEnabled()
    hv.show_step(t - 100)
    assert insp.shown == t - 100
    assert insp.probes.widgets[COUNT.key].buf.value_at(t - 100) == {":number": t - 100}
    assert f"t = {t - 100} (scrubbed)" in hv.label.text()


def test_a_probe_condition_pauses_right_after_its_step(studio, qtbot):
    win, insp = studio
    open_example(qtbot, win, "counter")
    insp.add_probe(COUNT)
    insp.breaks_view.add_probe_condition(COUNT.path, ">", 999)
    win.limit_box.setValue(0)
    with qtbot.waitSignal(insp.breakHit, timeout=20_000) as sig:
        win.run()
    hit = sig.args[0]
    assert hit.t == 1000 and hit.neuron == ("accum", "count")
    qtbot.waitUntil(lambda: insp.recorder.history.latest()[0] == 1000, timeout=5000)
    assert win.runner.t == 1000 and not win.runner.running
    assert get_in(insp.recorder.history.get(1000), COUNT.path) == {":number": 1000}


def test_a_nan_pauses_the_run_and_the_neuron_is_named(studio, qtbot):
    win, insp = studio
    faults = []
    insp.neuronAtFault.connect(faults.append)
    with qtbot.waitSignal(win.runner.stepped, timeout=START):
        win.open_network(nan_network(), None)
    # on by default (issue 11): the first step that goes non-finite pauses the run
    assert any(isinstance(c, NonFinite) and c.enabled for c in insp.recorder.breaks.conditions)
    with qtbot.waitSignal(insp.breakHit, timeout=20_000) as sig:
        win.run()
    assert sig.args[0].condition == "non_finite" and sig.args[0].neuron == ("accum", "x")
    assert sig.args[0].t == 1
    qtbot.waitUntil(lambda: faults == [("accum", "x")], timeout=5000)
    insp.breaks_view.nan.setChecked(False)  # the user turns it off: the engine's process is told
    assert isinstance(insp.recorder.breaks, Breaks)
    assert not any(isinstance(c, NonFinite) and c.enabled for c in insp.recorder.breaks.conditions)
    with qtbot.waitSignal(win.runner.stepped, timeout=10_000, check_params_cb=lambda f: f.t >= 6):
        win.step(5)
    assert faults == [("accum", "x")]


def test_edits_while_running_and_a_snapshot(studio, qtbot, tmp_path):
    win, insp = studio
    open_example(qtbot, win, "counter")
    with qtbot.waitSignal(win.runner.stepped, timeout=10_000, check_params_cb=lambda f: f.t == 3):
        win.step(3)
    win.runner.edit_weight(("accum", "count", "delta"), ("identity", "one", "single"), 10)
    with qtbot.waitSignal(win.runner.stepped, timeout=10_000, check_params_cb=lambda f: f.t == 5):
        win.step(2)
    assert get_in(win.runner.last.state, COUNT.path) == {":number": 23}
    net = win.runner.snapshot()
    assert get_in(net.outputs, COUNT.path) == {":number": 23}
    assert not hasattr(win.runner, "call")  # no code shipped to the engine: named edits only


def test_the_engine_process_ending_is_said_not_hung(studio, qtbot):
    win, insp = studio
    open_example(qtbot, win, "counter")
    with qtbot.waitSignal(win.runner.failed, timeout=10_000) as sig:
        win.runner.host.proc.kill()
    assert "engine process ended" in sig.args[0]
    assert not win.runner.running


def test_node_costs_are_measured_in_the_engines_process(studio, qtbot):
    win, insp = studio
    open_example(qtbot, win, "waves")
    insp.cost_action.setChecked(True)
    win.limit_box.setValue(0)
    with qtbot.waitSignal(insp.costsUpdated, timeout=20_000) as sig:
        win.run()
    win.pause()
    costs = sig.args[0]
    assert {("identity", f"update-{k}") for k in (1, 2, 3)} <= set(costs)
    assert all(ms >= 0 for ms in costs.values())
    qtbot.waitUntil(
        lambda: win.canvas.nodes[("identity", "update-1")].view.cost_badge is not None, timeout=5000
    )
