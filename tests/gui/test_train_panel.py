"""The Train panel driven as a user would, training for real (dmm_studio.learn)
in the engine's process: start, loss reports arrive, the canvas follows the
weights and a pruned link vanishes, pause, stop, keep the result, undo.

The network is tiny: ``out = w1 * in + w2 * bias`` with the target
``2 * in`` one step later, so training drives w1 to 2 and L1 with pruning
takes the bias wire away (about step 70 of Adam at lr 0.2, ~20 ms a step)."""

from __future__ import annotations

import json

import pytest

from dmm_studio.network import Network

pytestmark = pytest.mark.gui
START = 60_000  # ms: a child process imports torch first

IN = ("identity", "in", "single")
OUT = ("identity", "out", "single")
BIAS = ("identity", "bias", "single")
W1, W2 = (OUT, IN), (OUT, BIAS)


def design() -> Network:
    net = Network.empty()
    net.add_neuron("identity", "in", (0, 0))
    net.add_neuron("identity", "bias", (0, 200))
    net.add_neuron("identity", "out", (320, 100))
    net.set_output("identity", "bias", "single", {":number": 1})
    net.set_weights([(BIAS, BIAS, 1), (OUT, IN, 0.5), (OUT, BIAS, 0.3)])
    return net


def task(steps: int = 400, **kw) -> dict:
    return {
        "format": "dmm-studio-train/1",
        "episodes": [
            {
                "inputs": {"identity/in/single": [1, 2, 3, 1, 2, 3, 1, 2]},
                "targets": {"identity/out/single": [None, 2, 4, 6, 2, 4, 6, 2]},
            }
        ],
        "optimizer": {"name": "Adam", "lr": 0.2},
        "steps": steps,
        "seed": 1,
        "regularization": {"l1": 0.05},
        "trainable": {"weights": {"neurons": ["identity/out"]}},
        "prune": {"threshold": 0.05, "every": 10, "start": 10},
        **kw,
    }


def wires(net: Network) -> dict:
    return {(to, frm): w for to, frm, w in net.wires()}


@pytest.fixture
def studio(qtbot, tmp_path):
    from dmm_studio.gui.document import Document
    from dmm_studio.gui.main_window import MainWindow
    from dmm_studio.gui.train_panel import install

    path = tmp_path / "net.dmm.json"
    design().save(path)
    (tmp_path / "net.train.json").write_text(json.dumps(task()))
    w = MainWindow(Document(), process=True)  # the engine in its own process, as the studio runs it
    panel = install(w)
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    qtbot.waitExposed(w)
    w.open_network(Network.load(path), str(path), ask=False)
    yield w, panel
    w.runner.shutdown()


def test_the_task_beside_the_network_is_offered_and_sits_in_the_view_menu(studio, tmp_path):
    w, panel = studio
    assert panel.task_path() == str(tmp_path / "net.train.json")
    toggle = panel.dock.toggleViewAction()
    assert toggle in w.menus["View"].actions() and toggle.text() == "Train"


def test_start_reports_prune_stop_keep_and_undo(qtbot, studio):
    w, panel = studio
    before = wires(w.doc.network)
    with qtbot.waitSignal(w.runner.trainReports, timeout=START):
        assert panel.start()
    assert panel.state == "training" and not panel.start_button.isEnabled()
    # the canvas follows the weights, each wire as thick as its |w|; the bias wire is pruned away
    qtbot.waitUntil(lambda: w.canvas.running.matrix is not None, timeout=10_000)
    qtbot.waitUntil(lambda: W2 not in w.canvas.shown, timeout=30_000)
    assert panel.state == "training"
    assert panel.losses[-1] < panel.losses[0]
    assert panel.values["links"].text() == "1 (1 pruned)"
    assert panel.values["step"].text() == f"{panel.steps[-1]} / 400" and "s" in panel.values["time"].text()
    assert panel.curve.getData()[0][-1] == panel.steps[-1]
    assert w.canvas.shown[W1] > 1.0  # on its way from 0.5 to 2
    assert w.canvas.pipes[W1].pen().widthF() > w.canvas.pipes[(BIAS, BIAS)].pen().widthF()
    with qtbot.waitSignal(w.runner.trainDone, timeout=10_000):
        panel.stop()
    assert panel.state == "done" and panel.result is not None
    assert panel.keep_button.isEnabled() and panel.save_button.isEnabled()
    n = panel.steps[-1]
    assert n < 400  # stopped early
    trained = wires(panel.result)
    assert W2 not in trained and trained[W1] == pytest.approx(2.0, abs=0.3)
    assert wires(w.doc.network) == before  # the design is untouched until kept
    assert panel.keep_result()
    assert wires(w.doc.network) == trained
    assert w.canvas.running.matrix is None  # the canvas shows the design again, now trained
    assert W2 not in w.canvas.shown and w.canvas.shown[W1] == trained[W1]
    assert w.canvas.pipes[W1].pen().widthF() == 2.0  # the usual width again
    assert w.doc.undo_stack.count() == 1  # ONE command
    w.doc.undo_stack.undo()
    assert wires(w.doc.network) == before
    assert w.canvas.shown[W2] == 0.3 and w.canvas.shown[W1] == 0.5
    w.doc.undo_stack.redo()
    assert wires(w.doc.network) == trained


def test_pause_holds_training_and_resume_goes_on(qtbot, studio):
    w, panel = studio
    with qtbot.waitSignal(w.runner.trainReports, timeout=START):
        panel.start()
    with qtbot.waitSignal(w.runner.trainPaused, timeout=10_000, check_params_cb=lambda p, _s: p):
        panel.toggle_pause()
    assert panel.state == "paused" and panel.pause_button.text() == "Resume"
    at = panel.steps[-1]
    qtbot.wait(300)
    assert panel.steps[-1] == at  # nothing trains while paused
    with qtbot.waitSignal(w.runner.trainPaused, timeout=10_000, check_params_cb=lambda p, _s: not p):
        panel.toggle_pause()
    qtbot.waitUntil(lambda: panel.steps[-1] > at + 2, timeout=10_000)
    with qtbot.waitSignal(w.runner.trainDone, timeout=10_000):
        panel.stop()


def test_a_bad_task_file_is_one_line_and_nothing_is_lost(qtbot, studio, tmp_path):
    w, panel = studio
    before = w.doc.network.copy()
    # a file that is no task: said at once, nothing sent to the engine
    bad = tmp_path / "bad.train.json"
    bad.write_text(json.dumps({**task(), "steps": "many"}))
    panel.task_edit.setText(str(bad))
    assert not panel.start()
    text = panel.message.text()
    assert text.startswith(str(bad)) and "'steps'" in text and "\n" not in text
    assert w.statusBar().currentMessage() == text
    assert panel.state == "idle" and panel.start_button.isEnabled() and not w.runner.training
    # a task that does not fit the network: said by the engine's process
    t = task()
    t["episodes"][0]["targets"] = {"identity/nope/single": [1] * 8}
    bad.write_text(json.dumps(t))
    with qtbot.waitSignal(w.runner.trainFailed, timeout=START):
        assert panel.start()
    text = panel.message.text()
    assert text.startswith(str(bad)) and "no neuron identity/nope" in text and "\n" not in text
    assert w.statusBar().currentMessage() == text
    assert panel.state == "idle" and panel.start_button.isEnabled() and panel.result is None
    assert w.doc.network == before and w.doc.undo_stack.count() == 0
    panel.task_edit.setText(str(tmp_path / "missing.train.json"))
    assert not panel.start() and "no such file" in panel.message.text()


def test_a_network_the_run_cannot_train_is_one_line_from_the_engine(qtbot, studio):
    w, panel = studio
    # time.noise has no differentiable kernel: the engine's process refuses it
    w.doc.add_neuron("time.noise", (0, 400), "n")
    assert w.doc.connect(OUT, ("time.noise", "n", "out"), 0.1)
    with qtbot.waitSignal(w.runner.trainFailed, timeout=START) as blocker:
        assert panel.start()
    line = blocker.args[0]
    assert "\n" not in line and panel.message.text() == line
    assert panel.state == "idle" and panel.result is None


def test_save_as_writes_the_trained_network(qtbot, studio, tmp_path):
    w, panel = studio
    with qtbot.waitSignal(w.runner.trainDone, timeout=START):
        panel.steps_box.setValue(3)
        panel.start()
    assert panel.steps == [1, 2, 3]
    out = tmp_path / "trained.dmm.json"
    assert panel.save_result(str(out))
    saved = Network.load(out)
    assert wires(saved) == wires(panel.result) and saved.weight(*W1) != 0.5
    assert w.doc.path.endswith("net.dmm.json") and wires(w.doc.network)[W1] == 0.5


def test_opening_another_network_drops_the_training_of_the_one_before(qtbot, studio, tmp_path):
    w, panel = studio
    with qtbot.waitSignal(w.runner.trainReports, timeout=START):
        panel.start()
    other = design()
    other.set_weight(OUT, IN, 1.5)
    with qtbot.waitSignal(w.runner.trainDone, timeout=10_000):  # the old one's end, dropped
        w.open_network(other, None, ask=False)
    assert panel.state == "idle" and panel.result is None and not panel.steps
    assert not panel.keep_button.isEnabled() and w.canvas.running.matrix is None
    panel.task_edit.setText(str(tmp_path / "net.train.json"))
    panel.steps_box.setValue(2)
    with qtbot.waitSignal(w.runner.trainDone, timeout=10_000):
        assert panel.start()
    assert panel.steps == [1, 2]
    assert panel.result.weight(*W1) != 0.5  # trained from the new network's 1.5
    assert abs(panel.result.weight(*W1) - 1.5) < 0.5


UI_TRAINS = r"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError(f"torch imported in the studio's UI process: {name}")
sys.meta_path.insert(0, Block())
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from dmm_studio.gui.document import Document
from dmm_studio.gui.main_window import MainWindow
from dmm_studio.gui.train_panel import install
from dmm_studio.network import Network
w = MainWindow(Document(), process=True)
panel = install(w)
w.open_network(Network.load(sys.argv[1]), sys.argv[1], ask=False)
loop = QEventLoop()
w.runner.trainDone.connect(lambda _d: loop.quit())
w.runner.trainFailed.connect(lambda m: (print("failed", m), loop.quit()))
QTimer.singleShot(60_000, loop.quit)
panel.steps_box.setValue(3)
assert panel.start(), panel.message.text()
loop.exec()
assert panel.keep_result()
w.runner.shutdown()
assert "torch" not in sys.modules
print("ok", panel.steps)
"""


def test_training_leaves_torch_out_of_the_ui_process(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "net.dmm.json"
    design().save(path)
    (tmp_path / "net.train.json").write_text(json.dumps(task()))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run(
        [sys.executable, "-c", UI_TRAINS, str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "ok [1, 2, 3]" in r.stdout
