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
def studio(win):
    """The window with every panel installed, as ``dmm-studio`` builds it."""
    from types import SimpleNamespace

    from dmm_studio.gui import _inspect_hook

    _inspect_hook(win, SimpleNamespace(probe=None, self_view=False))
    win.tidy_docks()
    return win


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
