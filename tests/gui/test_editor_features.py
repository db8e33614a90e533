"""The editor features people expect: export to PNG and SVG, the minimap, a
light and a dark theme, paste at the pointer, Self's place kept in the file,
type documentation on hover, the Help menu and F1 with a help network."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QCursor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from dmm_studio.fileformat import load_network
from dmm_studio.network import SELF_ID, Network

from ..conftest import EXAMPLES
from .conftest import drag_wire

pytestmark = pytest.mark.gui


def _open(win, qtbot, net: Network) -> None:
    win.open_network(net, ask=False)
    qtbot.waitUntil(lambda: len(win.canvas.nodes) == len(net.neurons()))
    win.canvas.frame_all()


def _grid(n: int) -> Network:
    """``n`` identity neurons on a grid, each wired to the next."""
    net = Network.empty()
    net.set_pos(*SELF_ID, (1000.0, -300.0))
    for i in range(n):
        net.add_neuron("identity", f"n{i}", pos=((i % 10) * 260.0, (i // 10) * 180.0))
    for i in range(n - 1):
        net.set_weight(("identity", f"n{i + 1}", "single"), ("identity", f"n{i}", "single"), 1)
    return net


# ------------------------------------------------------------------ export
def test_export_writes_png_and_svg_with_the_nodes_names(win, qtbot, tmp_path):
    from dmm_studio.gui import export

    _open(win, qtbot, load_network(EXAMPLES / "waves.dmm.json"))
    v = win.canvas.viewer
    v.scale(0.2, 0.2)  # zoomed out: nodes draw as plain boxes on screen
    assert not v.detail_shown
    png, svg = tmp_path / "w.png", tmp_path / "w.svg"
    size = export.export_png(win.canvas, png)
    img = QImage(str(png))
    assert not img.isNull() and (img.width(), img.height()) == (size.width(), size.height())
    # the picture holds the nodes (Self's purple), not just the background
    colours = {img.pixelColor(x, y).rgb() for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colours) > 20
    export.export_svg(win.canvas, svg)
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    for name in ("update-1", "update-2", "update-3", "self", "identity"):
        assert name in text
    # the view is left as it was (boxes, zoomed out)
    assert not v.detail_shown
    assert not next(iter(win.canvas.nodes.values())).view.type_label.isVisible()
    with pytest.raises(OSError, match="cannot write"):
        export.export_png(win.canvas, tmp_path / "missing" / "x.png")
    with pytest.raises(OSError, match="cannot write"):
        export.export_svg(win.canvas, tmp_path / "missing" / "x.svg")
    names = [a.text() for a in win.menus["File"].actions()]
    assert "Export Canvas as PNG..." in names and "Export Canvas as SVG..." in names


# ------------------------------------------------------------------ minimap
def test_minimap_shows_for_large_networks_and_a_click_recentres(win, qtbot):
    mm = win.minimap
    _open(win, qtbot, load_network(EXAMPLES / "waves.dmm.json"))
    assert not mm.isVisible()  # 4 neurons: no overview needed
    _open(win, qtbot, _grid(200))
    qtbot.waitUntil(mm.isVisible)
    v = win.canvas.viewer
    # in the canvas's bottom-right corner, also after the window is resized
    win.resize(1100, 700)
    qtbot.waitUntil(lambda: abs(mm.geometry().right() - v.viewport().geometry().right()) < 20)
    assert abs(mm.geometry().bottom() - v.viewport().geometry().bottom()) < 20
    v.scale(4, 4)  # zoomed in on a part
    zoom = v.transform().m11()
    target = win.canvas.nodes[("identity", "n157")].view.sceneBoundingRect().center()
    QTest.mouseClick(mm, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, mm.scene_to_map(target).toPoint())
    centre = v.visible_rect().center()
    assert abs(centre.x() - target.x()) < 15 and abs(centre.y() - target.y()) < 15
    assert v.transform().m11() == pytest.approx(zoom)
    # the rectangle drawn is what the canvas shows
    box = mm.visible_box()
    assert box.contains(mm.scene_to_map(target))
    # a drag moves the canvas along
    far = win.canvas.nodes[("identity", "n12")].view.sceneBoundingRect().center()
    QTest.mousePress(mm, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, mm.scene_to_map(target).toPoint())
    QTest.mouseMove(mm, mm.scene_to_map(far).toPoint())
    QTest.mouseRelease(mm, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, mm.scene_to_map(far).toPoint())
    centre = v.visible_rect().center()
    assert abs(centre.x() - far.x()) < 15 and abs(centre.y() - far.y()) < 15


def test_minimap_draws_its_picture_only_when_the_network_changes(win, qtbot):
    mm = win.minimap
    _open(win, qtbot, _grid(300))
    qtbot.waitUntil(mm.isVisible)
    mm._poll()
    n = mm.redraws
    v = win.canvas.viewer
    v.center_on(QPointF(500, 500))  # a pan moves the rectangle, not the picture
    mm._poll()
    assert mm.redraws == n
    win.doc.move_neurons({("identity", "n0"): ((0.0, 0.0), (-900.0, -900.0))})
    mm._poll()
    assert mm.redraws == n + 1
    # the user's choice wins over the size rule
    win.actions_by_name["Minimap"].trigger()
    assert not mm.isVisible()
    mm._poll()
    assert not mm.isVisible()
    win.actions_by_name["Minimap"].trigger()
    assert mm.isVisible()


# ------------------------------------------------------------------ theme
def test_theme_switch_restyles_canvas_and_plots_and_is_remembered(qtbot):
    import pyqtgraph as pg

    from dmm_studio.gui import settings as st
    from dmm_studio.gui import theme
    from dmm_studio.gui.canvas.ngqt import LOOK
    from dmm_studio.gui.main_window import MainWindow

    st.settings().remove(theme.SETTING)
    w = MainWindow(remember=True)
    qtbot.addWidget(w)
    try:
        plot = pg.PlotWidget()
        w.add_dock("a plot", plot)
        scene = w.canvas.viewer.scene()
        dark_bg = scene.backgroundBrush().color().lightness()
        assert w.theme == "system" and dark_bg < 80
        w.theme_actions["light"].trigger()
        assert w.theme == "light"
        assert scene.backgroundBrush().color().lightness() > 200
        assert plot.backgroundBrush().color().lightness() > 200
        assert QApplication.palette().window().color().lightness() > 200
        assert LOOK["type_fg"].lightness() < 120  # the type above a node stays readable
        assert st.settings().value(theme.SETTING) == "light"
        w.theme_actions["dark"].trigger()
        assert QApplication.palette().window().color().lightness() < 80
        assert plot.backgroundBrush().color().lightness() < 80
        from dmm_studio.gui.inspect import fastviews  # the probes' compact views, painted by hand

        assert fastviews._BG.lightness() < 80 and fastviews._FG.lightness() > 150
        w.theme_actions["light"].trigger()
        w.runner.shutdown()
        if w.autosave is not None:
            w.autosave.close()
        # the next studio starts in the theme chosen last
        w2 = MainWindow(remember=True)
        qtbot.addWidget(w2)
        assert w2.theme == "light" and w2.theme_actions["light"].isChecked()
        assert w2.canvas.viewer.scene().backgroundBrush().color().lightness() > 200
        theme.choose_theme(w2, "system")
        w2.runner.shutdown()
        if w2.autosave is not None:
            w2.autosave.close()
    finally:
        theme.apply_theme(w, "system")
        st.settings().remove(theme.SETTING)
    assert QApplication.palette().window().color().lightness() == pytest.approx(
        theme._platform["palette"].window().color().lightness()
    )


# ------------------------------------------------------------------ paste, Self
def test_paste_lands_under_the_pointer(win, qtbot):
    a = win.doc.add_neuron("accum", (0.0, 0.0))
    b = win.doc.add_neuron("identity", (300.0, 60.0))
    win.doc.connect((*b, "single"), (*a, "single"))
    win.canvas.select([a, b])
    win.copy()
    v = win.canvas.viewer
    spot = QPoint(v.viewport().width() // 3, v.viewport().height() // 4)
    QCursor.setPos(v.viewport().mapToGlobal(spot))
    under = v.mapToScene(spot)
    win.paste()
    new = [nid for nid in win.doc.network.neurons() if nid not in (a, b, SELF_ID)]
    assert len(new) == 2
    pos = {nid[0]: win.doc.pos_of(nid) for nid in new}
    # the group's top-left (the accum's place) lands under the pointer; the pair keeps its shape
    assert pos["accum"] == pytest.approx((under.x(), under.y()))
    assert pos["identity"] == pytest.approx((under.x() + 300.0, under.y() + 60.0))
    assert win.doc.network.weight((*new[1], "single"), (*new[0], "single")) or win.doc.network.weight(
        (*new[0], "single"), (*new[1], "single")
    )


def test_self_keeps_its_place_in_the_saved_file(win, qtbot, tmp_path):
    before = win.canvas.node_pos(SELF_ID)
    ids = [win.doc.add_neuron("identity", (x, 0.0)) for x in (0.0, 300.0, 600.0)]
    for frm, to in zip(ids, ids[1:]):
        win.doc.connect((*to, "single"), (*frm, "single"))
    path = tmp_path / "chain.dmm.json"
    win.doc.save(str(path))
    assert json.loads(path.read_text())["layout"]["self/self"]["pos"] == list(before)
    win.doc.open(str(path))
    assert win.canvas.node_pos(SELF_ID) == pytest.approx(before)


def test_a_file_without_a_layout_reopens_as_it_was_shown(win, qtbot, tmp_path):
    data = json.loads((EXAMPLES / "waves.dmm.json").read_text())
    data["layout"] = {}
    path = tmp_path / "bare.dmm.json"
    path.write_text(json.dumps(data))
    win.doc.open(str(path))
    shown = {nid: win.canvas.node_pos(nid) for nid in win.canvas.nodes}
    assert win.doc.undo_stack.isClean()  # the places the canvas chose are no edit
    win.doc.save(str(path))
    win.doc.open(str(path))
    assert {nid: win.canvas.node_pos(nid) for nid in win.canvas.nodes} == shown
    assert set(json.loads(path.read_text())["layout"]) == {f"{f}/{n}" for f, n in shown}


def test_frame_all_then_pan_keeps_the_zoom(win, qtbot):
    _open(win, qtbot, load_network(EXAMPLES / "fuzzy_if.dmm.json"))
    v = win.canvas.viewer
    zoom = v.transform().m11()
    v._set_viewer_pan(5, 5)  # what a middle-button drag calls
    assert v.transform().m11() == pytest.approx(zoom, rel=0.01)


# ------------------------------------------------------------------ docs and help
def test_hover_on_a_node_shows_its_types_documentation(win, qtbot):
    _open(win, qtbot, load_network(EXAMPLES / "waves.dmm.json"))
    node = win.canvas.nodes[("identity", "update-1")]
    r = node.view.sceneBoundingRect()
    text = win.canvas.hover_text_at(QPointF(r.center().x(), r.top() + 8))  # on its name
    assert "Each input is passed to the output of the same name. Wired to itself with weight 1" in text
    assert "double-click" not in text and "\n" not in text


def test_descriptions_have_no_stray_line_breaks(win, qtbot):
    from dmm_studio.gui.palette import _describe
    from dmm_studio.gui.typehelp import doc_paragraphs, doc_text

    reg = win.doc.registry
    t = reg.get("data.cons")
    assert "\n" not in t.doc[:0] + "".join(doc_paragraphs(t.doc))
    assert doc_paragraphs("One line\n    goes on.\n\n    - an item\n      wrapped\n    - another") == [
        "One line goes on.",
        "- an item wrapped",
        "- another",
    ]
    assert "    " not in _describe(t) and "\n" not in _describe(t)
    nid = win.doc.add_neuron("data.cons", (0.0, 0.0))
    win.canvas.select([nid])
    title = win.properties.title.text()
    assert title == f"data.cons/cons\n{doc_text(t)}" and "\n    " not in title


def test_help_menu_and_f1_on_a_node_open_its_help_and_help_network(win, qtbot):
    names = [a.text().replace("&", "") for a in win.menus["Help"].actions()]
    assert names[:2] == ["Help on Neuron Type", "Neuron Types..."] and "About DMM Studio" in names
    nid = win.doc.add_neuron("data.cons", (0.0, 0.0))
    win.canvas.select([nid])
    win.canvas.viewer.setFocus()
    QTest.keyClick(win.canvas.viewer, Qt.Key.Key_F1)
    dlg = win.help_browser
    assert dlg.isVisible() and dlg.type_id == "data.cons"
    html = dlg.text.toHtml()
    assert "List builder" in html and "help:data.cons" in html
    win.doc.undo_stack.setClean()  # nothing to save: the help network replaces it
    dlg._link(QUrl("help:data.cons"))
    net = win.doc.network
    assert ("data.cons", "cons") in net.neurons()
    assert net.probes()["data.cons/cons"][0]["port"] == "list"
    # the list is fed back to itself, as its doc says
    assert net.weight(("data.cons", "cons", "list"), ("data.cons", "cons", "list")) == 1
    # F1 in the palette: the type under its cursor
    dlg.close()
    tree = win.palette.tree
    tree.setCurrentItem(win.palette.items["arith.tanh"])
    tree.setFocus()
    QTest.keyClick(tree, Qt.Key.Key_F1)
    assert win.help_browser.type_id == "arith.tanh"
    # the node's context menu offers the same help
    menu = win.canvas.node_menu(("data.cons", "cons"))
    assert any(a.text() == "Help on data.cons" for a in menu.actions())


def test_every_types_help_network_runs():
    from dmm_studio.gui.typehelp import help_network
    from dmm_studio.registry import default_registry

    reg = default_registry()
    for tid in reg.ids():
        net = help_network(reg, tid)
        net.validate(reg)
        m = net.machine(engine="reference", registry=reg)
        m.step(3)


# ------------------------------------------------------------------ backdrops and comments
def _drag(viewer, a: QPointF, b: QPointF) -> None:
    vp = viewer.viewport()
    pa, pb = viewer.mapFromScene(a), viewer.mapFromScene(b)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pa)
    for k in (0.3, 0.6, 1.0):
        QTest.mouseMove(vp, QPoint(int(pa.x() + (pb.x() - pa.x()) * k), int(pa.y() + (pb.y() - pa.y()) * k)))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pb)


def test_backdrops_and_comments_are_saved_moved_and_undone(win, qtbot, tmp_path):
    from dmm_studio.gui.canvas.notes import BackdropItem, CommentItem

    _open(win, qtbot, load_network(EXAMPLES / "waves.dmm.json"))
    canvas, notes = win.canvas, win.canvas.notes
    inside = [("identity", "update-1"), ("identity", "update-2")]
    canvas.select(inside)
    win.actions_by_name["Add Backdrop"].trigger()
    (bd,) = notes.backdrop_items
    assert isinstance(bd, BackdropItem) and bd.title == "Group"
    for nid in inside:
        assert bd.sceneBoundingRect().contains(canvas.nodes[nid].view.sceneBoundingRect())
    outside = ("identity", "update-3")
    assert not bd.sceneBoundingRect().contains(canvas.nodes[outside].view.sceneBoundingRect())
    notes.add_comment((500.0, -100.0), "the wave moves\nthrough Self's row")
    assert isinstance(notes.comment_items[0], CommentItem)
    assert not win.doc.undo_stack.isClean()
    # dragging the title bar moves the backdrop with the neurons on it (one undo step)
    before = {nid: canvas.node_pos(nid) for nid in [*inside, outside]}
    canvas.frame_all()
    title = bd.sceneBoundingRect().topLeft() + QPointF(60, 12)
    _drag(canvas.viewer, title, title + QPointF(200, 100))
    bd = notes.backdrop_items[0]
    assert win.doc.network.meta["backdrops"][0]["rect"][:2] == pytest.approx([bd.pos().x(), bd.pos().y()], abs=0.01)
    for nid in inside:
        bx, by = before[nid]
        ax, ay = win.doc.pos_of(nid)
        assert (ax - bx, ay - by) == pytest.approx(
            (bd.pos().x() - (title.x() - 60), bd.pos().y() - (title.y() - 12)), abs=1.5
        )
        assert ax - bx > 100 and ay - by > 40
    assert win.doc.pos_of(outside) == pytest.approx(before[outside])
    # inside the backdrop, ports take the mouse: a wire drawn there is drawn
    assert canvas.notes.item_at(bd.sceneBoundingRect().center()) is bd
    assert not bd.shape().contains(bd.mapFromScene(bd.sceneBoundingRect().center()))
    to, frm = ("identity", "update-2", "single"), ("identity", "update-1", "single")
    assert not win.doc.network.weight(to, frm)
    drag_wire(win, frm, to)
    assert win.doc.network.weight(to, frm) == 1
    # saved in the file, and back when it is opened
    path = tmp_path / "notes.dmm.json"
    win.doc.save(str(path))
    meta = json.loads(path.read_text())["meta"]
    assert meta["backdrops"][0]["title"] == "Group" and len(meta["backdrops"][0]["rect"]) == 4
    assert meta["comments"] == [{"text": "the wave moves\nthrough Self's row", "pos": [500.0, -100.0]}]
    win.doc.open(str(path))
    assert len(canvas.notes.backdrop_items) == 1 and len(canvas.notes.comment_items) == 1
    assert canvas.notes.comment_items[0].text == "the wave moves\nthrough Self's row"
    # edits undo: rename, colour, delete
    notes.change_backdrop(0, title="Waves", color=[150, 60, 60])
    assert notes.backdrop_items[0].title == "Waves"
    notes.remove_comment(0)
    assert notes.comment_items == []
    win.doc.undo_stack.undo()
    assert len(notes.comment_items) == 1
    win.doc.undo_stack.undo()
    assert notes.backdrop_items[0].title == "Group"
    # the SVG export holds them
    from dmm_studio.gui import export

    export.export_svg(canvas, tmp_path / "n.svg")
    svg = (tmp_path / "n.svg").read_text()
    assert "Group" in svg and "through" in svg
    # the canvas menu there offers them
    menu = canvas.context_menu_at(QPointF(-3000, -3000))
    assert "Add comment here" in [a.text() for a in menu.actions()]
    assert "Delete backdrop" in [
        a.text() for a in canvas.context_menu_at(notes.backdrop_items[0].sceneBoundingRect().topLeft() + QPointF(5, 5)).actions()
    ]


def test_a_comment_drags_and_a_bad_backdrop_is_refused(win, qtbot, tmp_path):
    from dmm_studio.fileformat import NetworkFileError

    notes = win.canvas.notes
    notes.add_comment((0.0, 0.0), "note")
    win.canvas.frame_all()
    c = notes.comment_items[0]
    start = c.sceneBoundingRect().center()
    _drag(win.canvas.viewer, start, start + QPointF(80, 40))
    x, y = notes.comments()[0]["pos"]
    assert x == pytest.approx(80, abs=3) and y == pytest.approx(40, abs=3)
    data = json.loads((EXAMPLES / "waves.dmm.json").read_text())
    data["meta"]["backdrops"] = [{"title": "x", "rect": [0, 0, -5, 10]}]
    path = tmp_path / "bad.dmm.json"
    path.write_text(json.dumps(data))
    with pytest.raises(NetworkFileError, match=r"meta\.backdrops\[0\]\.rect"):
        load_network(path)


def test_file_menu_export_writes_the_chosen_file(win, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    _open(win, qtbot, load_network(EXAMPLES / "waves.dmm.json"))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "picture"), ""))
    win.actions_by_name["Export Canvas as SVG"].trigger()
    assert "update-2" in (tmp_path / "picture.svg").read_text()
    win.actions_by_name["Export Canvas as PNG"].trigger()
    assert not QImage(str(tmp_path / "picture.png")).isNull()
    assert "exported the canvas to" in win.statusBar().currentMessage()
    # a folder that does not exist: one line in the status bar, nothing raised
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "no" / "p.png"), ""))
    win.actions_by_name["Export Canvas as PNG"].trigger()
    assert win.statusBar().currentMessage().startswith("cannot write the picture")


def test_a_backdrop_resizes_from_its_grip_and_undoes(win, qtbot):
    notes = win.canvas.notes
    from PySide6.QtCore import QRectF

    notes.add_backdrop(QRectF(0, 0, 300, 200), title="box")
    win.canvas.frame_all()
    bd = notes.backdrop_items[0]
    grip = bd.mapToScene(bd.grip_rect().center())
    _drag(win.canvas.viewer, grip, grip + QPointF(120, 60))
    _x, _y, w, h = notes.backdrops()[0]["rect"]
    assert w > 380 and h > 230
    win.doc.undo_stack.undo()
    assert notes.backdrops()[0]["rect"][2:] == [300, 200]
