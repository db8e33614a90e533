"""History scrubbing and breaks, with the studio's runner (the engine host in a
process of its own, as the studio runs it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_nets import nan_network, slow_nan_network

from dmm_studio.breaks import ProbeCondition
from dmm_studio.fileformat import load_network
from dmm_studio.gui.inspect.inspector import Inspector
from dmm_studio.gui.runner import Runner
from dmm_studio.history import matrix_entries
from dmm_studio.recorder import BreakpointReached, ProbeSpec

pytestmark = pytest.mark.gui
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
DELTA = ("self", "self", "delta")


def U(k):
    return ("identity", f"update-{k}", "single")


@pytest.fixture
def insp(qtbot):
    i = Inspector(history=64)
    for w in (i.probes, i.self_view, i.history_view, i.breaks_view):
        qtbot.addWidget(w)
        w.show()
    yield i
    i.timer.stop()
    i.tap.detach()


def test_scrubbing_back_shows_the_old_step_everywhere(insp, qtbot):
    insp.timer.stop()
    m = load_network(EXAMPLES / "waves.dmm.json").machine()
    insp.attach_engine(m.engine)
    probe = insp.add_probe(ProbeSpec("self", "self", "delta", side="input"))
    qtbot.waitUntil(probe.isVisible)
    m.step(10)
    insp.frame()
    assert insp.self_view.t == 10
    hv = insp.history_view
    assert (hv.slider.minimum(), hv.slider.maximum()) == (0, 10)
    assert hv.live.isChecked()
    # drag the scrubber to step 3
    with qtbot.waitSignal(insp.stepShown) as sig:
        hv.slider.setValue(3)
    assert sig.args[0] == 3 and not hv.live.isChecked()
    # the Self view shows W_3 (its delta row reads update-1: SPEC §7) with step 3's changes
    assert insp.self_view.t == 3
    assert insp.self_view.entries == matrix_entries(insp.recorder.history.matrix(3))
    assert insp.self_view.value(DELTA, U(1)) == 1 and insp.self_view.value(DELTA, U(2)) == 0
    assert {(c.kind, c.frm) for c in insp.self_view.changes} == {("removed", U(3)), ("added", U(1))}
    # the probe shows its value at step 3 (the step read update-3's delta)
    assert probe.value.text().strip().startswith("t = 3:")
    assert probe.current_view().shown[0][0].endswith("update-3/single")
    # the list of matrix changes of that step, from -> to
    items = [hv.changes.item(i).text() for i in range(hv.changes.count())]
    assert items == [
        "+ identity/update-1/single -> self/self/delta: 1",
        "- identity/update-3/single -> self/self/delta (was 1)",
    ]
    assert "t = 3 (scrubbed)" in hv.label.text() and "kept 0..10" in hv.label.text()
    # steps that run while scrubbed do not move the view
    m.step(2)
    insp.frame()
    assert insp.self_view.t == 3 and hv.slider.maximum() == 12
    # back to live
    hv.live.setChecked(True)
    assert insp.shown is None and insp.self_view.t == 12
    assert probe.value.text().strip().startswith("t = 12:")


def test_history_capacity_bounds_what_can_be_scrubbed(insp):
    insp.timer.stop()
    m = load_network(EXAMPLES / "counter.dmm.json").machine()
    insp.attach_engine(m.engine)
    m.step(100)
    insp.frame()
    assert insp.recorder.history.span() == (37, 100)  # 64 kept
    insp.history_view.capacity.setValue(10)
    insp.history_view._set_capacity(10)
    assert insp.recorder.history.span() == (91, 100)
    insp.show_step(50)  # not kept: ignored
    assert insp.shown is None
    assert "10 states" in insp.history_view.label.text()


def _runner_with(insp, qtbot, net):
    runner = Runner()
    insp.attach(runner)
    runner.load(net)
    return runner


def test_a_nan_network_pauses_with_the_neuron_named(insp, qtbot):
    """Runs flat out in the runner's thread; the break stops it right after the step."""
    faults = []
    insp.neuronAtFault.connect(faults.append)
    insp.breaks_view.nan.setChecked(True)  # on by default; kept explicit
    runner = _runner_with(insp, qtbot, slow_nan_network(after=300))
    failed, broke = [], []
    runner.failed.connect(failed.append)
    runner.broke.connect(lambda reason, nid: broke.append((reason, nid)))
    try:
        with qtbot.waitSignal(insp.breakHit, timeout=20_000) as sig:
            runner.run()
        hit = sig.args[0]
        qtbot.waitUntil(lambda: not runner.running, timeout=5000)
        assert hit.neuron == ("accum", "x") and hit.port == "single"
        assert "inf in accum/x/single" in hit.message
        assert 299 <= hit.t <= 301
        # the machine stopped on the step that broke, and every step was recorded
        assert runner.host.request_snapshot()[1] == hit.t
        qtbot.waitUntil(lambda: insp.recorder.history.span()[1] == hit.t, timeout=5000)
        assert insp.recorder.history.span() == (hit.t - 63, hit.t)  # the whole record came across
        # a break pauses the runner (its broke signal), it is not a failure
        qtbot.waitUntil(lambda: bool(broke), timeout=3000)
        assert "accum/x" in broke[0][0] and broke[0][1] == ("accum", "x")
        assert failed == []
        assert faults == [("accum", "x")]
        text = insp.breaks_view.status.text()
        assert f"Paused after step {hit.t}" in text and "Neuron at fault: accum/x" in text
        assert insp.breaks_view.fault.isEnabled()
        # going on steps once more and breaks again (inf stays inf)
        with qtbot.waitSignal(insp.breakHit, timeout=5000):
            runner.step(1)
    finally:
        runner.shutdown()


def test_breaks_survive_a_reset_and_a_new_load(insp, qtbot):
    insp.breaks_view.nan.setChecked(True)
    runner = _runner_with(insp, qtbot, nan_network())
    try:
        with qtbot.waitSignal(insp.breakHit, timeout=10_000) as sig:
            runner.step(5)
        assert sig.args[0].t == 1 and sig.args[0].neuron == ("accum", "x")
        runner.reset(load_network(EXAMPLES / "counter.dmm.json"))
        insp.breaks_view.nan.setChecked(False)
        insp.breaks_view.add_probe_condition(("accum", "count", "single"), ">=", 25)
        assert isinstance(insp.recorder.breaks.conditions[-1], ProbeCondition)
        with qtbot.waitSignal(insp.breakHit, timeout=10_000) as sig:
            runner.run()
        assert sig.args[0].t == 25
        qtbot.waitUntil(lambda: not runner.running, timeout=5000)
        net, t = runner.host.request_snapshot()
        assert t == 25 and net.outputs["accum"]["count"]["single"] == {":number": 25}
    finally:
        runner.shutdown()


def test_the_tap_raises_a_step_error_naming_the_neuron():
    from dmm_studio.breaks import Breaks, NonFinite
    from dmm_studio.recorder import EngineTap, Recorder

    rec = Recorder(breaks=Breaks([NonFinite()]))
    tap = EngineTap(rec)
    m = nan_network().machine()
    tap.attach(m.engine)
    with pytest.raises(BreakpointReached) as e:
        m.step(3)
    assert e.value.neuron == ("accum", "x") and e.value.t == 1 and m.t == 1
    tap.detach()
    m.step(1)  # the engine's own step again: no break
    assert m.t == 2
