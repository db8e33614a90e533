"""Views you can trust, a layout you can read (issue 15): the Fields editor,
History and the Self view after another file is opened or mid-run, the
Properties panel's design and running weights, probe export (PNG of the
picture, MP4 on the plain install), plots over their whole time range, the
probes dock's columns, the Self view's header, weight labels that never
cover each other."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from dmm_studio.network import Network
from dmm_studio.recorder import ProbeBuffer, ProbeSpec

pytestmark = pytest.mark.gui
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _open(win, name: str) -> Network:
    net = Network.load(EXAMPLES / f"{name}.dmm.json")
    assert win.open_network(net, str(EXAMPLES / f"{name}.dmm.json"), ask=False)
    return net


@pytest.fixture
def studio(qtbot):
    """The window with every panel installed, as ``dmm-studio`` builds it
    (panels, then docks tidied, then shown)."""
    from types import SimpleNamespace

    from dmm_studio.gui import _inspect_hook
    from dmm_studio.gui.document import Document
    from dmm_studio.gui.main_window import MainWindow

    w = MainWindow(Document(), process=True)
    qtbot.addWidget(w)
    w.resize(1300, 850)
    _inspect_hook(w, SimpleNamespace(probe=None, self_view=False))
    w.tidy_docks()
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.runner.shutdown()


def _steps(win, qtbot, n: int) -> None:
    for _ in range(n):
        t = (win.canvas.running.t or 0) + 1
        with qtbot.waitSignal(win.runner.stepped, timeout=20_000, check_params_cb=lambda f, t=t: f.t >= t):
            win.step(1)


# ------------------------------------------------------------------ file switch


def test_the_fields_editor_clears_when_a_file_without_fields_is_opened(studio, qtbot):
    panel = studio.fields_panel
    _open(studio, "field_population")
    assert panel.list.count() == 2 and panel.name.text() and panel.source.toPlainText()
    _open(studio, "waves")
    assert panel.list.count() == 0
    assert panel.name.text() == "" and panel.source.toPlainText() == "" and panel.params.text() == ""
    assert not any(box.isChecked() for box in panel.targets.values())
    assert not panel.apply_button.isEnabled()


def test_history_shows_the_step_mid_run_and_the_new_file_after_a_switch(studio, qtbot):
    insp = studio.inspector
    _open(studio, "waves")
    insp.docks["history"].hide()  # closed while the machine steps
    _steps(studio, qtbot, 4)
    insp.docks["history"].show()
    insp.docks["history"].raise_()
    qtbot.waitUntil(lambda: insp.history_view.label.text().startswith("t = 4 "), timeout=5000)
    assert "kept 0..4" in insp.history_view.label.text()
    _open(studio, "counter")
    qtbot.waitUntil(lambda: insp.history_view.label.text().startswith("t = 0 "), timeout=5000)
    assert "kept 0..0" in insp.history_view.label.text()
    # the only step kept is the new file's t = 0 (nothing of the waves' run)
    assert insp.recorder.history.span() == (0, 0)
    w0 = insp.recorder.history.matrix(0)
    assert "accum" in w0 and "update-1" not in str(w0)


# ------------------------------------------------------------------ export


def _probe_widget(qtbot, values):
    from dmm_studio.gui.inspect.views import ProbeWidget

    buf = ProbeBuffer(ProbeSpec("accum", "count", "single"))
    for t, v in enumerate(values):
        buf.append(t, {":number": float(v)})
    w = ProbeWidget(buf)
    qtbot.addWidget(w)
    w.resize(600, 300)
    w.show()
    qtbot.waitExposed(w)
    w.refresh()
    return w


def test_a_probes_png_holds_the_picture_not_its_buttons(qtbot, tmp_path):
    from dmm_studio.gui.inspect.export import export_png

    w = _probe_widget(qtbot, range(50))
    path = tmp_path / "p.png"
    assert export_png(w, path)
    img = QtGui.QImage(str(path))
    view = w.current_view()
    ratio = img.devicePixelRatio()
    assert (img.width() / ratio, img.height() / ratio) == (view.width(), view.height())
    assert img.height() / ratio < w.height() - w.title.height()  # no header row of buttons


def test_mp4_export_works_on_the_plain_install(qtbot, tmp_path):
    import imageio.v2 as imageio
    import torch

    from dmm_studio.gui.inspect.export import export_movie

    buf = ProbeBuffer(ProbeSpec("synth.image", "img", "out"))
    for t in range(6):
        buf.append(t, {":tensor": torch.full((9, 13), float(t))})
    assert export_movie(buf, tmp_path / "m.mp4") == 6
    reader = imageio.get_reader(tmp_path / "m.mp4")
    assert reader.count_frames() == 6 and reader.get_data(0).shape[:2] == (10, 14)  # even sides
    reader.close()


def test_mp4_without_ffmpeg_says_so_in_one_line(monkeypatch, tmp_path):
    import sys

    import torch

    from dmm_studio.gui.inspect.export import ExportError, export_movie

    buf = ProbeBuffer(ProbeSpec("synth.image", "img", "out"))
    buf.append(0, {":tensor": torch.zeros(4, 4)})
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # not installed
    with pytest.raises(ExportError) as e:
        export_movie(buf, tmp_path / "m.mp4")
    text = str(e.value)
    assert "\n" not in text and "pip install imageio-ffmpeg" in text and "GIF" in text
    assert not (tmp_path / "m.mp4").exists()


# ------------------------------------------------------------------ plots


def _line_columns(img: QtGui.QImage) -> list[int]:
    """The x of every column that holds a pixel of the plot's line colour."""
    cols = []
    for x in range(img.width()):
        for y in range(0, img.height(), 1):
            c = img.pixelColor(x, y)
            if c.blue() > 150 and c.red() < 120 and c.green() < 170:
                cols.append(x)
                break
    return cols


@pytest.mark.parametrize("n", [300, 1500, 2000])
def test_a_plot_spans_its_whole_time_range(qtbot, n):
    """Flat out the ring holds 2,000 steps: the line starts at the left edge
    (no empty band where the decimation dropped the oldest points)."""
    from dmm_studio.gui.inspect.fastviews import FastPlot

    p = FastPlot()
    qtbot.addWidget(p)
    p.resize(560, 160)
    p.show()
    qtbot.waitExposed(p)
    t = np.arange(10_000, 10_000 + n)
    p.show_series(t, np.sin(t / 40.0))
    img = p.grab().toImage()
    cols = _line_columns(img)
    ratio = img.devicePixelRatio()
    assert cols, "no line drawn"
    assert cols[0] <= 6 * ratio and cols[-1] >= img.width() - 7 * ratio
    # and every column between has a piece of the line: no band without data
    assert len(cols) >= (cols[-1] - cols[0] + 1) * 0.95


# ------------------------------------------------------------------ properties


def test_properties_show_the_design_and_the_running_weight_side_by_side(win, qtbot):
    """live_edit: matrix.patch/faster makes accum/count/delta <- identity/one 2
    in W_t at t = 31 (the design keeps 1): the neuron's table and the wire's
    form show both; Reset goes back to the design's alone."""
    from PySide6.QtWidgets import QLabel

    win.open_network(Network.load(EXAMPLES / "live_edit.dmm.json"), ask=False)
    count = ("accum", "count")
    key = (("accum", "count", "delta"), ("identity", "one", "single"))
    win.properties.show_neuron(count)
    table = win.properties.wires
    assert table.isColumnHidden(2)  # design time: one weight per wire
    win.step(40)
    qtbot.waitUntil(lambda: win.canvas.running.t == 40, timeout=20_000)
    row = win.properties._wire_rows.index(key)
    assert not table.isColumnHidden(2)
    assert (table.item(row, 1).text(), table.item(row, 2).text()) == ("1", "2")
    assert table.horizontalHeaderItem(2).text() == "W_t"
    # the wire alone: the design's weight to edit, W_t's beside it in one row
    win.properties.show_wire(key)
    assert win.properties.weight_edit.text() == "1"
    running = win.properties.findChild(QLabel, "running-weight")
    assert running is not None and running.text() == "W_t: 2"
    edit_box = win.properties.weight_edit.geometry()
    assert running.parentWidget() is win.properties.weight_edit.parentWidget()
    assert abs(running.geometry().center().y() - edit_box.center().y()) < 4  # side by side
    win.actions_by_name["Reset"].trigger()
    qtbot.waitUntil(lambda: win.properties.findChild(QLabel, "running-weight") is None, timeout=5000)
    win.properties.show_neuron(count)
    assert table.isColumnHidden(2)


def test_properties_follow_w_t_frame_by_frame(win, qtbot):
    """A weight of W_t edited live (the canvas's amber label): the neuron's
    W_t column follows without reselecting."""
    net = win.doc.network
    net.add_neuron("identity", "a", pos=(0, 0))
    key = (("identity", "a", "single"), ("identity", "a", "single"))
    net.set_weight(*key, 1)
    win.properties.show_neuron(("identity", "a"))
    win.step(1)
    qtbot.waitUntil(lambda: win.canvas.running.t == 1, timeout=20_000)
    table = win.properties.wires
    assert table.item(0, 2).text() == "1"
    win._live_weight(key[0], key[1], 5)  # W_t only: the design keeps 1
    win.step(1)
    qtbot.waitUntil(lambda: table.item(0, 2) is not None and table.item(0, 2).text() == "5", timeout=20_000)
    assert table.item(0, 1).text() == "1"


# ------------------------------------------------------------------ the running state


def test_the_inspector_reads_the_running_state(studio, qtbot):
    """With recording off (nothing in the inspector's record), the Self view
    still follows the W_t the canvas shows: the inspector reads the studio's
    RunningState, and a wire's hover gives its weight there."""
    from dmm_studio.gui.inspect import hover_text

    insp = studio.inspector
    assert insp.running is studio.canvas.running
    _open(studio, "waves")
    insp.set_live(False)  # no recording: the record keeps nothing new
    insp.docks["self"].show()
    insp.docks["self"].raise_()
    qtbot.waitUntil(lambda: insp.self_view.isVisible(), timeout=5000)
    _steps(studio, qtbot, 3)
    qtbot.waitUntil(lambda: studio.canvas.running.t == 3, timeout=5000)
    qtbot.waitUntil(lambda: insp.self_view.t == 3, timeout=5000)
    assert insp.self_view.entries == dict(studio.canvas.running.wires)
    assert insp.recorder.history.latest()[0] == 0  # not from the record: it has step 0 only
    (key, w), *_ = studio.canvas.running.wires.items()
    text = hover_text(studio, insp, "wire", key)
    assert text is not None and "at step 3" in text


# ------------------------------------------------------------------ a layout you can read


@pytest.mark.parametrize("width", [300, 360, 560])
def test_the_self_views_header_is_never_clipped_by_its_checkbox(qtbot, width):
    from dmm_studio.gui.inspect.selfview import SelfView

    net = Network.load(EXAMPLES / "lightweight_pure.dmm.json")
    v = SelfView()
    qtbot.addWidget(v)
    v.resize(width, 500)
    v.show()
    qtbot.waitExposed(v)
    v.set_matrix(net.matrix, None, 12345)
    qtbot.wait(10)
    text = v.info.text()
    assert text.startswith("W at t = 12345: ")
    info, box = v.info.geometry(), v.mark_changes.geometry()
    assert not info.intersects(box)
    # the whole text fits in the label (wrapped in a narrow dock)
    inner = v.info.contentsRect()
    need = v.info.fontMetrics().boundingRect(
        QtCore.QRect(0, 0, inner.width(), 10_000), int(QtCore.Qt.TextFlag.TextWordWrap), text
    )
    assert need.height() <= inner.height() and need.width() <= inner.width()
    # the controls show whole too
    assert box.width() >= v.mark_changes.sizeHint().width() and box.right() <= v.width()


def _panel_with_probes(qtbot, n):
    from dmm_studio.gui.inspect.inspector import Inspector

    insp = Inspector()
    insp.timer.stop()
    for i in range(n):
        insp.add_probe(ProbeSpec("synth.softmax_matmul", f"product{i}", "out"))
    qtbot.addWidget(insp.probes)
    return insp.probes


def _columns(panel) -> int:
    return len({w.geometry().x() for w in panel.widgets.values()})


def test_the_probes_dock_takes_as_many_columns_as_its_width_allows(qtbot):
    panel = _panel_with_probes(qtbot, 3)
    panel.show()
    for width, cols in [(500, 1), (900, 2), (1400, 3), (600, 1)]:
        panel.resize(width, 700)
        qtbot.waitUntil(lambda cols=cols: _columns(panel) == cols, timeout=3000)
        qtbot.wait(50)  # the layout settles (a vertical scroll bar may come)
        # nothing wider than the dock: no sideways scrolling, every header whole
        assert panel.horizontalScrollBar().maximum() == 0, width
        for w in panel.widgets.values():
            assert w.geometry().right() <= panel.viewport().width()
            for b in w.findChildren(QtWidgets.QToolButton) + [w.combo, w.zoom]:
                assert b.geometry().right() <= w.width() and b.width() >= b.minimumSizeHint().width()


def test_a_probes_name_gives_up_room_in_a_narrow_dock(qtbot):
    panel = _panel_with_probes(qtbot, 1)
    panel.show()
    (w,) = panel.widgets.values()
    panel.resize(1000, 400)
    qtbot.waitUntil(lambda: not w.title.elided(), timeout=3000)
    assert w.title.text() == "synth.softmax_matmul/product0/out"
    panel.resize(330, 400)
    qtbot.waitUntil(lambda: w.title.elided(), timeout=3000)
    assert panel.horizontalScrollBar().maximum() == 0
    assert w.title.toolTip() == "synth.softmax_matmul/product0/out"


# ------------------------------------------------------------------ weight labels


def _labels(win):
    return {k: p.label for k, p in win.canvas.pipes.items() if p.label is not None}


@pytest.mark.parametrize("name", ["fuzzy_if", "lightweight_pure", "live_edit", "reflection", "duplicates"])
def test_weight_labels_never_cover_each_other_nor_nodes(win, qtbot, name):
    """fuzzy_if drew -0.5 over 0.5 where two wires cross; lightweight_pure -0.3
    under a 1: no two labels overlap, none lies under a node, none covers its
    own wire (labels are drawn in scene units: one placement holds at every zoom)."""
    from PySide6.QtGui import QPainterPathStroker

    _open(win, name)
    qtbot.wait(50)
    for zoom in (0.9, 1.6):  # (zoomed out further, below LABEL_LOD, labels hide)
        viewer = win.canvas.viewer
        viewer.setTransform(QtGui.QTransform.fromScale(zoom, zoom))
        viewer._zoom_changed()  # what the viewer's own zoom calls do
        assert viewer.transform().m11() == zoom
        labels = _labels(win)
        assert all(lab.isVisible() for lab in labels.values())
        assert labels
        boxes = {k: lab.sceneBoundingRect() for k, lab in labels.items()}
        keys = list(boxes)
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                assert not boxes[a].intersects(boxes[b]), (zoom, a, b)
        nodes = [n.view.sceneBoundingRect() for n in win.canvas.nodes.values()]
        for k, box in boxes.items():
            assert not any(box.intersects(n) for n in nodes), (zoom, k)
            pipe = win.canvas.pipes[k]
            stroker = QPainterPathStroker()
            stroker.setWidth(2)
            stroke = pipe.mapToScene(stroker.createStroke(pipe.path()))
            assert not stroke.intersects(box), (zoom, k)


def test_the_cost_badge_never_covers_the_type_name(win, qtbot):
    """A narrow node with a long type name: the badge goes a row higher."""
    win.doc.network.add_neuron("synth.softmax_matmul", "p", pos=(0, 0))
    win.doc.network.add_neuron("identity", "i", pos=(300, 0))
    qtbot.wait(10)
    for nid in (("synth.softmax_matmul", "p"), ("identity", "i")):
        view = win.canvas.nodes[nid].view
        view.set_cost("12.5 ms", 0.5)
        badge, name = view.cost_badge.sceneBoundingRect(), view.type_label.sceneBoundingRect()
        assert not badge.intersects(name), nid
        assert badge.bottom() <= view.sceneBoundingRect().top() + 1  # above the node, not on it
    # a short type name leaves the badge on its own row, beside the name
    short = win.canvas.nodes[("identity", "i")].view
    assert short.cost_badge.pos().y() == -17


# ------------------------------------------------------------------ examples open with what they are about


def _gallery():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_gallery", EXAMPLES.parent / "docs" / "make_gallery.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GALLERY = sorted(_gallery().SHOTS)


@pytest.mark.parametrize("name", GALLERY)
def test_every_example_opens_with_its_probes_and_views(studio, qtbot, name):
    """What the file keeps is what opens (and what the gallery pictures: its
    screenshot passes nothing but the file and the steps)."""
    from dmm_studio.gui.inspect import PANELS, file_views

    net = _open(studio, name)
    insp = studio.inspector
    kept = {f"{k}/{p['port']}" for k, ps in net.probes().items() for p in ps}
    assert kept or file_views(net), f"{name} opens with nothing to show"
    assert set(insp.probes.widgets) == kept
    if kept:
        qtbot.waitUntil(lambda: insp.probes.isVisible(), timeout=3000)  # the Probes dock in front
        # room for a plot, not a strip
        qtbot.waitUntil(lambda: insp.docks["probes"].height() >= 240, timeout=3000)
    for view in file_views(net):
        panel = getattr(studio, PANELS[view], None) if view in PANELS else None
        dock = panel.dock if panel is not None else insp.docks[view]
        qtbot.waitUntil(lambda dock=dock: dock.widget().isVisible(), timeout=3000)
    if "self" in file_views(net):
        qtbot.waitUntil(lambda: insp.docks["self"].width() >= 500, timeout=3000)  # a Self view you can read
    assert all(isinstance(steps, int) for steps in _gallery().SHOTS.values())


def test_waves_opens_the_self_view_and_history(studio, qtbot):
    from dmm_studio.gui.inspect import file_views

    net = _open(studio, "waves")
    assert file_views(net) == ["self", "history"]
    insp = studio.inspector
    qtbot.waitUntil(lambda: insp.self_view.isVisible() and insp.history_view.isVisible(), timeout=3000)
    assert insp.self_view.t == 0 and insp.self_view.entries
    # History readable: its list of changes shows several lines, not one
    qtbot.waitUntil(lambda: insp.history_view.changes.height() >= 4 * insp.history_view.fontMetrics().height(), timeout=3000)


def test_views_the_file_names_badly_are_left_out():
    from dmm_studio.gui.inspect import file_views

    net = Network.empty()
    net.meta = {"views": ["self", "nonsense", 3, "fields"]}
    assert file_views(net) == ["self", "fields"]
    net.meta = {"views": "self"}
    assert file_views(net) == []


@pytest.mark.parametrize("name", ["duplicates_learn", "field_learn"])
def test_the_learning_examples_open_with_the_train_dock_in_front(studio, qtbot, name):
    from dmm_studio.gui.inspect import file_views

    net = _open(studio, name)
    assert "train" in file_views(net)
    qtbot.waitUntil(lambda: studio.train_panel.isVisible(), timeout=3000)
