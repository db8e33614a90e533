"""The Self view: cells match W, changes are marked, clicks and highlights follow wires."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtCore

from dmm_studio.fileformat import load_network
from dmm_studio.gui.inspect.selfview import SelfView
from dmm_studio.history import matrix_entries

pytestmark = pytest.mark.gui
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
DELTA = ("self", "self", "delta")


def U(k: int) -> tuple[str, str, str]:
    return ("identity", f"update-{k}", "single")


@pytest.fixture
def view(qtbot):
    v = SelfView()
    qtbot.addWidget(v)
    v.resize(700, 450)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_cells_match_w(view):
    m = load_network(EXAMPLES / "counter.dmm.json").machine()
    m.set_weight(("accum", "count", "delta"), ("identity", "one", "single"), -2.5)
    m.step(3)
    w = m.matrix
    view.set_matrix(w, None, m.t)
    entries = matrix_entries(w)
    assert len(entries) == 4
    # rows are inputs, columns outputs, grouped by neuron (sorted), every weight in its cell
    assert view.rows == sorted({to for to, _ in entries})
    assert view.cols == sorted({frm for _, frm in entries})
    for (to, frm), x in entries.items():
        assert view.value(to, frm) == x
    assert float(abs(view.values).sum()) == sum(abs(x) for x in entries.values())
    assert view.value(("accum", "count", "delta"), ("accum", "count", "single")) == 0  # no wire there
    # colors: positive blue, negative red, no wire white
    pos = view.pixel_color(("accum", "count", "accum"), ("accum", "count", "single"))
    neg = view.pixel_color(("accum", "count", "delta"), ("identity", "one", "single"))
    none = view.pixel_color(("accum", "count", "delta"), ("accum", "count", "single"))
    assert pos.blue() > pos.red() + 50  # weight 1 of at most 2.5: light blue
    assert neg.red() > 150 and neg.blue() < 100
    assert min(none.red(), none.green(), none.blue()) > 240
    # readable labels: neurons on the left/top axes, ports on the right/bottom
    assert "accum/count" in view.left.tickStrings([0.5], 1, 1) or view.left._labels[0][1] == "accum/count"
    assert [s for _, s in view.right._labels] == [p[2] for p in view.rows]
    assert view.info.text().startswith("W at t = 3: 4 x 3, 4 weights")


def test_changes_are_marked_on_waves(view):
    m = load_network(EXAMPLES / "waves.dmm.json").machine()
    m.step(3)
    prev = m.matrix
    m.step(1)
    view.set_matrix(m.matrix, prev, m.t)
    # step 4: Self's delta row moves from update-1 to update-2 (SPEC §7)
    kinds = {(c.kind, c.to, c.frm) for c in view.changes}
    assert kinds == {("removed", DELTA, U(1)), ("added", DELTA, U(2))}
    spots = {(int(x), int(y)) for x, y in zip(*view.marks.getData(), strict=True)}
    assert spots == {
        (view.cols.index(U(1)), view.rows.index(DELTA)),
        (view.cols.index(U(2)), view.rows.index(DELTA)),
    }
    assert "+1 -1 ~0" in view.info.text()
    # the removed wire keeps its column, drawn empty; the added one is drawn
    assert view.value(DELTA, U(1)) == 0 and view.value(DELTA, U(2)) == 1
    view.mark_changes.setChecked(False)
    assert len(view.marks.getData()[0]) == 0
    view.mark_changes.setChecked(True)
    assert len(view.marks.getData()[0]) == 2


def test_clicking_a_cell_selects_its_wire_and_highlight_outlines_it(view, qtbot):
    m = load_network(EXAMPLES / "waves.dmm.json").machine()
    m.step(1)
    view.set_matrix(m.matrix, None, 1)
    r, c = view.rows.index(DELTA), view.cols.index(U(2))
    scene_pt = view.vb.mapViewToScene(QtCore.QPointF(c, r))
    assert view.cell_at(scene_pt) == (DELTA, U(2))
    with qtbot.waitSignal(view.cellSelected) as sig:
        pt = view.glw.mapFromScene(scene_pt)
        qtbot.mouseClick(view.glw.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pt)
    assert sig.args == [DELTA, U(2)]
    assert view.selected.isVisible()
    # a wire selected on the canvas: its cell is outlined, and stays so as W changes
    view.highlight(U(3), U(3))
    rect = view.selected.rect()
    assert (rect.center().x(), rect.center().y()) == (view.cols.index(U(3)), view.rows.index(U(3)))
    m.step(1)
    view.set_matrix(m.matrix, None, 2)
    assert view.selected.isVisible()
    view.highlight(("nope", "x", "y"), U(3))
    assert not view.selected.isVisible()


def test_hover_names_the_wire(view):
    m = load_network(EXAMPLES / "waves.dmm.json").machine()
    view.set_matrix(m.matrix, None, 0)
    r, c = view.rows.index(DELTA), view.cols.index(U(1))
    view._moved(view.vb.mapViewToScene(QtCore.QPointF(c, r)))
    assert view.hover.text().strip() == "identity/update-1/single -> self/self/delta: 1"
