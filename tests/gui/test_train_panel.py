"""The Train panel driven as a user would: start, loss reports arrive, the
canvas follows the weights, pause, stop, keep the result, undo."""

from __future__ import annotations

import json
import math

import pytest

from dmm_studio.network import Network
from tests.fake_learn import install_fake_learn

pytestmark = pytest.mark.gui
START = 60_000


@pytest.fixture
def fake_learn(monkeypatch):
    return install_fake_learn(monkeypatch)


def design() -> Network:
    net = Network.empty()
    net.add_neuron("identity", "one", (0, 0))
    net.set_output("identity", "one", "single", {":number": 1})
    net.add_neuron("accum", "a", (300, -100))
    net.add_neuron("accum", "b", (600, 0))
    net.set_weights(
        [
            (("identity", "one", "single"), ("identity", "one", "single"), 1),
            (("accum", "a", "delta"), ("identity", "one", "single"), 2.0),
            (("accum", "b", "delta"), ("identity", "one", "single"), 0.5),
            (("accum", "b", "accum"), ("accum", "a", "single"), 4.0),
        ]
    )
    return net


@pytest.fixture
def studio(qtbot, fake_learn, tmp_path):
    from dmm_studio.gui.document import Document
    from dmm_studio.gui.main_window import MainWindow
    from dmm_studio.gui.train_panel import install

    path = tmp_path / "net.dmm.json"
    design().save(path)
    (tmp_path / "net.train.json").write_text(json.dumps({"steps": 40, "factor": 0.9, "prune": 0.6, "delay": 0.01}))
    doc = Document()
    w = MainWindow(doc, process=False)
    panel = install(w)
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    qtbot.waitExposed(w)
    w.open_network(Network.load(path), str(path), ask=False)
    yield w, panel
    w.runner.shutdown()


def test_the_task_beside_the_network_is_offered(studio, tmp_path):
    _w, panel = studio
    assert panel.task_path() == str(tmp_path / "net.train.json")


def test_start_reports_stop_keep_and_undo(qtbot, studio):
    w, panel = studio
    before = {(to, frm): x for to, frm, x in w.doc.network.wires()}
    with qtbot.waitSignal(w.runner.trainReports, timeout=START):
        assert panel.start()
    qtbot.waitUntil(lambda: len(panel.steps) >= 3, timeout=5000)
    assert panel.state == "training"
    assert panel.losses[0] > panel.losses[-1] > 0  # the fake's loss falls
    assert panel.values["step"].text() != "-" and "s" in panel.values["time"].text()
    # the canvas shows the trained weights (thickness by |w|), pruned links gone
    qtbot.waitUntil(lambda: w.canvas.running.matrix is not None, timeout=5000)
    qtbot.waitUntil(lambda: ("accum", "b", "delta") not in {k[0] for k in w.canvas.shown}, timeout=5000)
    thick = {k: w.canvas.pipes[k].pen().widthF() for k in w.canvas.shown}
    big = (("accum", "b", "accum"), ("accum", "a", "single"))
    assert thick[big] == max(thick.values()) > min(thick.values())
    with qtbot.waitSignal(w.runner.trainDone, timeout=5000):
        panel.stop()
    assert panel.state == "done" and panel.result is not None
    n = panel.steps[-1]
    assert 3 <= n < 40  # stopped early
    trained = {(to, frm): x for to, frm, x in panel.result.wires()}
    assert trained[big] == pytest.approx(4.0 * 0.9**n)
    # the design is untouched until kept
    assert {(to, frm): x for to, frm, x in w.doc.network.wires()} == before
    assert panel.keep_result()
    after = {(to, frm): x for to, frm, x in w.doc.network.wires()}
    assert after == trained and after != before
    assert w.canvas.running.matrix is None  # the canvas shows the design again (now trained)
    assert w.canvas.shown[big] == pytest.approx(4.0 * 0.9**n)
    assert w.doc.undo_stack.count() == 1  # ONE command
    w.doc.undo_stack.undo()
    assert {(to, frm): x for to, frm, x in w.doc.network.wires()} == before
    assert w.canvas.shown[big] == 4.0
    w.doc.undo_stack.redo()
    assert {(to, frm): x for to, frm, x in w.doc.network.wires()} == trained


def test_pause_blocks_training_and_resume_goes_on(qtbot, studio):
    w, panel = studio
    with qtbot.waitSignal(w.runner.trainReports, timeout=START):
        panel.start()
    with qtbot.waitSignal(w.runner.trainPaused, timeout=5000, check_params_cb=lambda p, _s: p):
        panel.toggle_pause()
    assert panel.state == "paused" and panel.pause_button.text() == "Resume"
    at = panel.steps[-1]
    qtbot.wait(200)
    assert panel.steps[-1] == at  # nothing trains while paused
    with qtbot.waitSignal(w.runner.trainDone, timeout=10_000):
        panel.toggle_pause()
    assert panel.steps[-1] == 40 and panel.state == "done"


def test_a_bad_task_file_is_one_line_and_nothing_is_lost(qtbot, studio, tmp_path):
    w, panel = studio
    bad = tmp_path / "bad.train.json"
    bad.write_text("{}")
    before = w.doc.network.copy()
    panel.task_edit.setText(str(bad))
    with qtbot.waitSignal(w.runner.trainFailed, timeout=START):
        panel.start()
    text = panel.message.text()
    assert str(bad) in text and "\n" not in text
    assert w.statusBar().currentMessage() == text
    assert panel.state == "idle" and panel.start_button.isEnabled()
    assert w.doc.network == before and w.doc.undo_stack.count() == 0
    panel.task_edit.setText(str(tmp_path / "missing.train.json"))
    assert not panel.start() and "no such file" in panel.message.text()


def test_save_as_writes_the_trained_network(qtbot, studio, tmp_path):
    w, panel = studio
    with qtbot.waitSignal(w.runner.trainDone, timeout=START):
        panel.steps_box.setValue(3)
        panel.start()
    out = tmp_path / "trained.dmm.json"
    assert panel.save_result(str(out))
    saved = Network.load(out)
    assert {(a, b): x for a, b, x in saved.wires()} == {(a, b): x for a, b, x in panel.result.wires()}
    assert not math.isclose(saved.weight(("accum", "a", "delta"), ("identity", "one", "single")), 2.0)
    assert w.doc.path.endswith("net.dmm.json")  # the design keeps its file
