"""Export (CSV, NPY, GIF, MP4, PNG), per-node cost, and the main window hooks."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from inspect_nets import counter_with_frames, registry
from PySide6 import QtGui

from dmm_studio.fileformat import load_network
from dmm_studio.gui.inspect.export import export_png
from dmm_studio.gui.inspect.inspector import Inspector
from dmm_studio.recorder import NodeProfiler, ProbeSpec, Recorder, step_recorded

pytestmark = pytest.mark.gui
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def ran(qtbot):
    insp = Inspector()
    insp.timer.stop()
    qtbot.addWidget(insp.probes)
    m = counter_with_frames().machine(registry=registry())
    insp.attach_engine(m.engine)
    for o in ("image", "words"):
        insp.add_probe(ProbeSpec("test.frame", "f", o))
    insp.add_probe(ProbeSpec("accum", "count", "single"))
    m.step(12)
    insp.probes.show()
    insp.frame(force=True)
    yield insp, m
    insp.tap.detach()


def test_scalar_probe_to_csv_and_npy(ran, tmp_path):
    insp, m = ran
    n = insp.export_probe("accum/count/single", "csv", tmp_path / "c.csv")
    with open(tmp_path / "c.csv") as f:
        rows = list(csv.reader(f))
    assert n == 13 and rows[0] == ["t", "accum/count/single"]
    assert [(int(t), float(v)) for t, v in rows[1:]] == [(t, float(t)) for t in range(13)]
    shape = insp.export_probe("accum/count/single", "npy", tmp_path / "c.npy")
    a = np.load(tmp_path / "c.npy")
    assert shape == (13, 2) and a.shape == (13, 2)
    np.testing.assert_array_equal(a[:, 0], a[:, 1])


def test_vector_probe_to_csv_has_a_column_per_word(ran, tmp_path):
    insp, m = ran
    insp.export_probe("test.frame/f/words", "csv", tmp_path / "w.csv")
    with open(tmp_path / "w.csv") as f:
        rows = list(csv.DictReader(f))
    last = rows[-1]
    assert int(last["t"]) == 12
    words = m.output("test.frame", "f", "words")
    assert {k: float(last[k]) for k in words} == {k: float(v) for k, v in words.items()}


def test_image_probe_to_npy_gif_and_mp4(ran, tmp_path):
    imageio = pytest.importorskip("imageio.v2")
    insp, m = ran
    shape = insp.export_probe("test.frame/f/image", "npy", tmp_path / "i.npy")
    frames = np.load(tmp_path / "i.npy")
    assert shape == frames.shape == (12, 24, 32)  # t = 1..12 (at t = 0 the output is still empty)
    np.testing.assert_allclose(frames[-1], m.output("test.frame", "f", "image")[":tensor"].numpy())
    n = insp.export_probe("test.frame/f/image", "gif", tmp_path / "i.gif")
    gif = imageio.mimread(tmp_path / "i.gif")
    assert len(gif) == n == frames.shape[0]
    assert gif[0].shape[:2] == (24, 32)
    # imageio-ffmpeg is a dependency: MP4 works on the README's install (no skip)
    assert importlib.util.find_spec("imageio_ffmpeg") is not None
    n = insp.export_probe("test.frame/f/image", "mp4", tmp_path / "i.mp4")
    reader = imageio.get_reader(tmp_path / "i.mp4")
    first = reader.get_data(0)
    assert first.shape[:2] == (24, 32) and reader.count_frames() == n
    reader.close()


def test_any_view_to_png(ran, tmp_path):
    insp, m = ran
    insp.self_view.resize(500, 400)
    insp.self_view.show()
    insp.frame(force=True)
    for name, w in [("self", insp.self_view), ("probe", insp.probes.widgets["test.frame/f/image"])]:
        path = tmp_path / f"{name}.png"
        assert export_png(w, path)
        img = QtGui.QImage(str(path))
        assert not img.isNull() and img.width() > 100
    assert insp.export_probe("test.frame/f/image", "png", tmp_path / "p.png")


def test_per_node_cost_names_each_neuron():
    m = load_network(EXAMPLES / "waves.dmm.json").machine(engine="reference")
    prof = NodeProfiler()
    step_recorded(m.engine, Recorder(), 40, prof)
    costs = prof.costs()
    assert set(costs) == {
        ("self", "self"),
        ("identity", "update-1"),
        ("identity", "update-2"),
        ("identity", "update-3"),
    }
    assert all(ms > 0 for ms in costs.values())
    assert prof.costs() == {}  # taken
    # the engine is itself again after the tap is gone
    assert "step" not in m.engine.__dict__ and type(m.engine.registry).__name__ == "Registry"


def test_cost_on_the_compiled_engine_is_per_type():
    from dmm_studio.engine import ENGINES

    if "compiled" not in ENGINES:
        pytest.skip("no compiled engine")
    net = load_network(EXAMPLES / "waves.dmm.json")
    plain = net.machine(engine="compiled")
    plain.step(7)
    m = net.machine(engine="compiled")
    prof = NodeProfiler()
    step_recorded(m.engine, Recorder(), 7, prof)
    costs = prof.costs()
    # a type computed at once is timed as a whole ((type, "*")); instances that
    # the engine calls one by one are named (the engine may do either)
    named = {("identity", f"update-{k}") for k in (1, 2, 3)}
    assert ("identity", "*") in costs or named <= set(costs)
    assert all(ms > 0 for ms in costs.values())
    assert m.state == plain.state  # timing does not change what is computed


def test_cost_toggle_fills_the_table(qtbot):
    insp = Inspector()
    insp.timer.stop()
    qtbot.addWidget(insp.cost_view)
    m = load_network(EXAMPLES / "counter.dmm.json").machine(engine="reference")
    insp.attach_engine(m.engine)
    insp.cost_view.enable.setChecked(True)
    with qtbot.waitSignal(insp.costsUpdated) as sig:
        m.step(20)
        insp.frame()
    assert set(sig.args[0]) == {("self", "self"), ("accum", "count"), ("identity", "one")}
    assert insp.cost_view.table.rowCount() == 3
    insp.cost_view.enable.setChecked(False)
    m.step(5)
    assert insp.profiler.take() == ({}, 0)
    insp.tap.detach()


def test_install_in_the_main_window_and_cli_probes(qtbot, tmp_path):
    from dmm_studio.gui.inspect import apply_cli, install
    from dmm_studio.gui.main_window import MainWindow

    win = MainWindow(process=True)
    qtbot.addWidget(win)
    win.open_network(load_network(EXAMPLES / "waves.dmm.json"))
    insp = install(win)
    args = SimpleNamespace(probe=["identity/update-1/single", "self/self/delta:in", "bad"], self_view=True)
    apply_cli(win, args)
    assert list(insp.probes.widgets) == ["identity/update-1/single", "self/self/delta (input)"]
    assert win.doc.network.layout["identity/update-1"]["probes"] == [{"port": "single"}]
    win.show()
    assert insp.docks["self"].isVisible() and insp.docks["probes"].isVisible()
    seen = []
    insp.stepShown.connect(lambda t, s: seen.append(t))
    with qtbot.waitSignal(win.runner.stepped, timeout=10_000, check_params_cb=lambda f: f.t >= 4):
        win.step(4)
    qtbot.waitUntil(lambda: insp.self_view.t == 4, timeout=5000)
    assert insp.recorder.history.span() == (0, 4)
    # a wire selected on the canvas is outlined in the Self view
    to, frm = ("self", "self", "delta"), ("identity", "update-2", "single")
    win.canvas.wire_selected.emit((to, frm))
    assert insp.self_view.highlighted == (to, frm) and insp.self_view.selected.isVisible()
    # a fault selects its neuron on the canvas
    insp.neuronAtFault.emit(("identity", "update-3"))
    assert win.canvas.selected_neurons() == [("identity", "update-3")]
    # scrubbing reaches the canvas too
    insp.show_step(2)
    assert seen == [2]
    # View > Probe selected outputs
    from dmm_studio.gui.inspect import probe_selection

    win.canvas.select([("identity", "update-2")])
    specs = probe_selection(win, insp)
    assert [s.key for s in specs] == ["identity/update-2/single"]
    assert "identity/update-2/single" in insp.probes.widgets
    win.runner.shutdown()


def test_a_break_in_the_studio_pauses_names_and_selects_the_neuron(qtbot):
    from inspect_nets import slow_nan_network

    from dmm_studio.gui.inspect import install
    from dmm_studio.gui.main_window import MainWindow

    win = MainWindow(process=True)
    qtbot.addWidget(win)
    win.open_network(slow_nan_network(after=40))
    insp = install(win)
    insp.breaks_view.nan.setChecked(True)  # on by default; kept explicit
    win.show()
    try:
        with qtbot.waitSignal(insp.breakHit, timeout=20_000) as sig:
            win.run()
        hit = sig.args[0]
        assert hit.neuron == ("accum", "x") and 39 <= hit.t <= 41
        qtbot.waitUntil(lambda: not win.runner.running, timeout=5000)
        assert win.runner.host.request_snapshot()[1] == hit.t  # the machine stopped right there
        assert insp.docks["breaks"].isVisible()
        assert "Neuron at fault: accum/x" in insp.breaks_view.status.text()
        assert win.canvas.selected_neurons() == [("accum", "x")]
        # the status bar says it paused at a break (not that it stopped on a failure)
        qtbot.waitUntil(lambda: "paused at a break" in win.statusBar().currentMessage(), timeout=3000)
        assert "accum/x" in win.statusBar().currentMessage()
    finally:
        win.runner.shutdown()
