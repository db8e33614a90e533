"""The fields editor and heat map, driven as a user would, asserting on the model."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from dmm_studio.fields import validate_fields  # noqa: E402
from dmm_studio.fileformat import load_network  # noqa: E402
from dmm_studio.gui import fields_view  # noqa: E402
from tests.conftest import EXAMPLES  # noqa: E402


@pytest.fixture
def panel(win):
    return fields_view.install(win)


def test_install_adds_a_dock_a_heat_map_and_a_menu_toggle(win, panel):
    assert win.fields_panel is panel
    assert panel.heat.scene() is win.canvas.viewer.scene()
    assert panel.dock.widget().widget() is panel  # in a scroll area
    assert panel.list.count() == 0 and panel.heat.pixmap().isNull()
    panel.heat_action.setChecked(False)
    assert not panel.heat.isVisible() and not panel.show_heat.isChecked()
    panel.heat_action.setChecked(True)
    assert panel.heat.isVisible()


def test_add_edit_and_undo_a_field(win, panel, qtbot):
    win.doc.add_neuron("synth.sin", (0.0, 0.0))
    qtbot.mouseClick(panel.add_button, fields_view.Qt.MouseButton.LeftButton)
    fields = win.doc.network.fields
    assert len(fields) == 1 and fields[0]["name"] == "field 1"
    validate_fields(fields)
    assert not panel.heat.pixmap().isNull()

    panel.strength.setValue(0.25)
    panel.targets["outputs"].setChecked(False)
    panel.targets["inputs"].setChecked(True)
    panel.params.setText("a")
    panel.types.setText("synth.sin")
    panel.kind.setCurrentText("bump")
    panel._kind_chosen(0)
    qtbot.mouseClick(panel.apply_button, fields_view.Qt.MouseButton.LeftButton)
    (f,) = win.doc.network.fields
    assert f["strength"] == 0.25 and f["targets"] == ["inputs", "param:a"]
    assert f["source"]["kind"] == "bump" and f["covers"] == {"types": ["synth.sin"]}
    assert panel.error.text() == ""

    win.doc.undo_stack.undo()
    assert win.doc.network.fields[0]["source"]["kind"] == "radial"
    win.doc.undo_stack.undo()
    assert win.doc.network.fields == [] and panel.list.count() == 0
    win.doc.undo_stack.redo()
    assert len(win.doc.network.fields) == 1 and panel.list.count() == 1


@pytest.mark.parametrize(
    "source, message",
    [
        ("{", "field 'field 1': the source is not JSON"),
        ('{"wavelength": -1}', "'wavelength' must be a positive"),
    ],
)
def test_a_bad_field_is_refused_and_named(win, panel, qtbot, source, message):
    qtbot.mouseClick(panel.add_button, fields_view.Qt.MouseButton.LeftButton)
    before = [dict(f) for f in win.doc.network.fields]
    panel.source.setPlainText(source)
    assert not panel.apply()
    assert message in panel.error.text() and "field 1" in panel.error.text()
    assert win.doc.network.fields == before


def test_the_heat_map_follows_the_running_network(win, panel, qtbot):
    win.open_network(load_network(EXAMPLES / "field_population.dmm.json"))
    assert panel.list.count() == 2 and panel.list.item(0).text().startswith("ripple")
    first = panel.heat.values.copy()
    assert first.shape[1] == fields_view.GRID and np.abs(first).max() > 0.1
    win.step(6)
    qtbot.waitUntil(lambda: panel.t >= 6, timeout=10000)
    assert not np.allclose(panel.heat.values, first)
    both = panel.heat.values.copy()
    panel.list.setCurrentRow(0)
    panel.only_selected.setChecked(True)
    ripple = panel.heat.values.copy()
    assert not np.allclose(ripple, both)
    layout = win.doc.network.layout
    assert np.allclose(
        ripple, fields_view.heat_values(win.doc.network.fields[:1], layout, 6, _rect(layout), None)
    )


def _rect(layout):
    pts = np.array([e["pos"] for e in layout.values()])
    m = fields_view.MARGIN
    return fields_view.QRectF(
        pts[:, 0].min() - m, pts[:, 1].min() - m, np.ptp(pts[:, 0]) + 2 * m, np.ptp(pts[:, 1]) + 2 * m
    )


def test_edits_reach_the_running_machine(win, panel, qtbot):
    win.open_network(load_network(EXAMPLES / "field_population.dmm.json"))
    win.step(2)
    qtbot.waitUntil(lambda: panel.t >= 2, timeout=10000)
    panel.list.setCurrentRow(0)
    panel.strength.setValue(0.0)
    assert panel.apply()
    running = win.runner.snapshot()  # the running machine's fields, as the engine has them
    assert running.fields[0]["strength"] == 0.0
    assert running.fields == win.doc.network.fields


def test_heat_values_match_the_fields():
    fields = [
        {"name": "c", "source": {"kind": "constant", "value": 2.0}, "strength": 0.5, "targets": ["outputs"]}
    ]
    rect = fields_view.QRectF(0, 0, 100, 50)
    v = fields_view.heat_values(fields, {}, 0, rect, cols=10)
    assert v.shape == (5, 10) and np.allclose(v, 1.0)
    img = fields_view.heat_image(v)
    assert img.width() == 10 and img.height() == 5
