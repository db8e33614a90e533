"""File -> Sweep: the view runs a spec in a child process, shows its rows in a
table and a plot, and opens a run's network on the canvas (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dmm_studio.sweep import Sweep, load_spec, read_rows

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WEIGHT = "weights/accum/count/delta/identity/one/single"


def counter_spec(tmp_path: Path) -> Path:
    spec = {
        "format": "dmm-studio-sweep/1",
        "network": str(EXAMPLES / "counter.dmm.json"),
        "steps": 4,
        "engine": "reference",
        "axes": [
            {"name": "w", "path": WEIGHT, "values": [1, 2, 3]},
            {"name": "y0", "path": "outputs/identity/one/single", "values": [1, 10]},
        ],
        "collect": {"outputs": ["accum/count/single"]},
    }
    p = tmp_path / "counter.sweep.json"
    p.write_text(json.dumps(spec), encoding="utf-8")
    return p


def test_file_sweep_runs_in_the_background_and_opens_a_run(win, qtbot, tmp_path, monkeypatch):
    from dmm_studio.gui import sweep_view

    spec = counter_spec(tmp_path)
    monkeypatch.setattr(sweep_view.QFileDialog, "getOpenFileName", lambda *a, **k: (str(spec), ""))
    win.actions_by_name["Sweep"].trigger()
    view = win.sweep_dock.widget()
    assert isinstance(view, sweep_view.SweepView) and view.running()
    assert view.out == tmp_path / "counter.runs"
    # the UI keeps going while the child runs: a timer of this process fires meanwhile
    ticks = []
    from PySide6.QtCore import QTimer

    t = QTimer()
    t.timeout.connect(lambda: ticks.append(1))
    t.start(20)
    with qtbot.waitSignal(view.finished, timeout=60000) as done:
        pass
    t.stop()
    assert done.args == [0] and len(ticks) > 5
    assert view.model.rowCount() == 6 and view.progress.value() == 6 and view.status.text() == "done: all ok"
    col = view.model.columns.index("out:accum/count/single")
    cells = [view.model.data(view.model.index(i, col)) for i in range(6)]
    assert cells == [str(4 * w * y) for w in (1, 2, 3) for y in (1, 10)]
    # the heat map over both axes holds the metric at (w, y0)
    view.metric_box.setCurrentText("out:accum/count/single")
    img = view.heat_values()
    assert img.shape == (3, 2) and img[2, 1] == 4 * 3 * 10 and img[0, 0] == 4
    # a metric over one axis: one curve per value of the other
    view.mode_box.setCurrentText("over w")
    curves = view.plot.getPlotItem().listDataItems()
    assert sorted(list(c.getData()[1]) for c in curves) == [[4, 8, 12], [40, 80, 120]]
    # the heat map's range and tick labels went with it: every point of the curves is in view
    qtbot.waitUntil(lambda: view.plot.getPlotItem().viewRange()[1][1] >= 120)
    assert view.plot.getAxis("bottom")._tickLevels is None
    # clicking a row opens that run's network
    index = view.model.index(3, 0)  # run 3: w = 2, y0 = 10
    with qtbot.waitSignal(view.runOpened):
        view.table.clicked.emit(index)
    net = win.doc.network
    assert net.weight(("accum", "count", "delta"), ("identity", "one", "single")) == 2
    assert net.outputs["identity"]["one"]["single"] == {":number": 10}
    assert win.doc.path is None  # an untitled copy: saving never overwrites anything
    # unsaved changes: the studio asks first, and Cancel keeps the open design
    monkeypatch.setattr(win, "maybe_save", lambda: False)
    assert not view.open_run(0)
    assert win.doc.network is net


def test_existing_rows_show_and_a_stopped_sweep_resumes(win, qtbot, tmp_path):
    from dmm_studio.gui.sweep_view import show_sweep

    spec_path = counter_spec(tmp_path)
    out = tmp_path / "out"
    sweep = Sweep(load_spec(spec_path), out)
    sweep.points = sweep.points[:2]  # as if killed after two runs
    sweep.run(use_ray=False)
    view = show_sweep(win, spec_path, out, start=False)
    assert view.model.rowCount() == 2 and view.run_button.isEnabled()
    with qtbot.waitSignal(view.finished, timeout=60000):
        view.start()
    assert sorted(r["run"] for r in read_rows(out / "runs.csv")) == list(range(6))
    assert view.model.rowCount() == 6 and not view.run_button.isEnabled()


def test_a_bad_spec_is_one_line_in_the_status_bar(win, tmp_path):
    from dmm_studio.gui.sweep_view import show_sweep

    bad = tmp_path / "bad.sweep.json"
    bad.write_text('{"format": "dmm-studio-sweep/1"}', encoding="utf-8")
    assert show_sweep(win, bad) is None
    assert "bad.sweep.json: no 'network'" in win.statusBar().currentMessage()


@pytest.mark.parametrize("kind", ["random"])
def test_random_points_plot_as_coloured_dots(win, tmp_path, kind):
    from dmm_studio.gui.sweep_view import show_sweep

    data = json.loads(counter_spec(tmp_path).read_text())
    data["axes"] = [
        {"name": "w", "path": WEIGHT, "range": {"min": 1, "max": 3}},
        {"name": "y0", "path": "outputs/identity/one/single", "range": {"min": 1, "max": 10}},
    ]
    data["sampling"] = {"kind": kind, "samples": 40, "seed": 2}
    p = tmp_path / "r.sweep.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    Sweep(load_spec(p), tmp_path / "out").run(use_ray=False)
    view = show_sweep(win, p, tmp_path / "out", start=False)
    view.metric_box.setCurrentText("out:accum/count/single")
    assert view.heat_values() is None  # not a grid: dots
    (dots,) = view.plot.getPlotItem().listDataItems()
    assert len(dots.getData()[0]) == 40


def test_a_training_sweep_shows_loss_per_run(win, tmp_path):
    """A training sweep's rows show their loss, and the plot starts on it."""
    from dmm_studio.gui.sweep_view import show_sweep

    data = json.loads((EXAMPLES / "field_learn.sweep.json").read_text(encoding="utf-8"))
    data.update(steps=3, network=str(EXAMPLES / data["network"]), task=str(EXAMPLES / data["task"]))
    data.pop("tune")
    spec_path = tmp_path / "train.sweep.json"
    spec_path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    Sweep(load_spec(spec_path), out).run(use_ray=False)
    view = show_sweep(win, spec_path, out, start=False)
    rows = read_rows(out / "runs.csv")
    assert view.model.rowCount() == 6
    assert view.metric_box.currentText() == "loss"
    assert {"loss", "links", "loss_curve"} <= set(view.model.columns)
    heat = view.heat_values()
    assert heat is not None
    import numpy as np

    want = {(r["lr"], r["strength0"]): r["loss"] for r in rows}
    assert sorted(np.asarray(heat).ravel().tolist()) == pytest.approx(sorted(want.values()))
    view.resize(900, 600)
    assert not view.grab().isNull()
