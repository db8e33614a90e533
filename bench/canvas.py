"""Canvas frame times: the studio's canvas beside NodeGraphQt as it comes.

    QT_QPA_PLATFORM=offscreen python bench/canvas.py [--sizes 200 500 1000] [--repeat 7]

For each size it builds the same graph twice (N nodes, ~2 wires per node, a
grid layout) — once as plain NodeGraphQt nodes in a plain ``NodeGraph``, once
as identity neurons of a ``Network`` shown by ``dmm_studio.gui.canvas.Canvas``
— in a 1600x1000 view, and prints median milliseconds for:

- ``drag``: press on one node's title and move the mouse 6 px at a time;
  each mouse-move until Qt has painted the frame (process CPU time), zoomed
  to fit all;
- ``drag@1``: the same at zoom 1 (the usual editing zoom);
- ``pan@1``: a middle-button drag of the view, 8 px a move, at zoom 1;
- ``repaint``: a full repaint of the view, zoomed to fit all;
- ``repaint@1``: a full repaint at zoom 1.

``--delete`` (or ``--what delete``): Select all + Delete, then Undo, on the
same graphs: NodeGraphQt's own ``delete_nodes`` and undo beside the studio's
``Document.remove_neurons`` of the canvas's selection and undo, each until
the event loop has drained (wall seconds, the best of ``--delete-repeat``).

Both run in one process on the same machine, so the ratios are fair.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from NodeGraphQt import BaseNode, NodeGraph  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

W, H = 1600, 1000


class PlainNode(BaseNode):
    __identifier__ = "bench"
    NODE_NAME = "node"

    def __init__(self) -> None:
        super().__init__()
        self.add_input("single", multi_input=True)
        self.add_output("single", multi_output=True)


def edges(n: int) -> list[tuple[int, int]]:
    return [(i, (i + 1) % n) for i in range(n)] + [(i, (i * 7 + 3) % n) for i in range(n)]


def grid(i: int, n: int) -> tuple[float, float]:
    cols = max(1, int(math.sqrt(n * 1.6)))
    return (float((i % cols) * 260), float((i // cols) * 140))


def build_plain(n: int):
    g = NodeGraph()
    g.set_acyclic(False)
    g.register_node(PlainNode)
    # unique names without NodeGraphQt's O(N) search per node
    g.get_unique_name = lambda name: name  # type: ignore[method-assign]
    nodes = []
    for i in range(n):
        node = PlainNode()
        node.NODE_NAME = f"n{i}"
        g.add_node(node, pos=list(grid(i, n)), selected=False, push_undo=False)
        nodes.append(node)
    for a, b in edges(n):
        nodes[a].output(0).connect_to(nodes[b].input(0), push_undo=False, emit_signal=False)
    return g, g.viewer(), [nd.view for nd in nodes]


def build_ours(n: int):
    from dmm_studio.gui.canvas import Canvas
    from dmm_studio.gui.document import Document
    from dmm_studio.network import Network

    net = Network.empty()
    for i in range(n):
        net.add_neuron("identity", f"n{i}", grid(i, n))
    for a, b in edges(n):
        net.set_weight(("identity", f"n{b}", "single"), ("identity", f"n{a}", "single"), 1)
    net.set_pos("self", "self", (0.0, -300.0))
    canvas = Canvas(Document(net))
    return canvas, canvas.viewer, [canvas.nodes[("identity", f"n{i}")].view for i in range(n)]


def fit(viewer, items) -> None:
    rect = QRectF()
    for it in items:
        rect = rect.united(it.sceneBoundingRect())
    viewer._scene_range = rect.adjusted(-rect.width(), -rect.height(), rect.width(), rect.height())
    viewer._update_scene()
    viewer.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
    viewer.fit_scale = viewer.transform().m11()


def zoom1(viewer, item) -> None:
    viewer.resetTransform()
    viewer.centerOn(item)


def settle(app) -> None:
    for _ in range(3):
        app.processEvents()


def time_drag(app, viewer, item, repeat: int) -> float:
    """Press on the node's title, then ``repeat`` mouse moves of 6 px: the
    time of each move until Qt has painted the frame (median)."""
    vp = viewer.viewport()
    r = item.sceneBoundingRect()
    p = viewer.mapFromScene(QPointF(r.center().x(), r.top() + 8))
    settle(app)
    start = item.pos()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    settle(app)
    out = []
    for k in range(1, repeat + 1):
        q = QPoint(p.x() + 6 * k, p.y())
        t0 = time.process_time()
        QTest.mouseMove(vp, q)
        settle(app)
        out.append(time.process_time() - t0)
    QTest.mouseRelease(
        vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(p.x() + 6 * repeat, p.y())
    )
    settle(app)
    if item.pos() == start:
        raise RuntimeError("the drag did not move the node")
    return statistics.median(out) * 1000


def time_pan(app, viewer, repeat: int) -> float:
    """Middle-button drag across the view, 8 px a move (median per frame)."""
    vp = viewer.viewport()
    p = QPoint(vp.width() // 2, vp.height() // 2)
    settle(app)
    QTest.mousePress(vp, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, p)
    settle(app)
    out = []
    for k in range(1, repeat + 1):
        t0 = time.process_time()
        QTest.mouseMove(vp, QPoint(p.x() - 8 * k, p.y() - 3 * k))
        settle(app)
        out.append(time.process_time() - t0)
    QTest.mouseRelease(
        vp,
        Qt.MouseButton.MiddleButton,
        Qt.KeyboardModifier.NoModifier,
        QPoint(p.x() - 8 * repeat, p.y() - 3 * repeat),
    )
    settle(app)
    return statistics.median(out) * 1000


def time_repaint(app, viewer, repeat: int) -> float:
    out = []
    settle(app)
    for _ in range(repeat):
        t0 = time.process_time()
        viewer.viewport().repaint()
        out.append(time.process_time() - t0)
    return statistics.median(out) * 1000


def measure(app, name: str, build, n: int, repeat: int) -> dict[str, float]:
    t0 = time.process_time()
    owner, viewer, items = build(n)
    host = viewer.window()
    host.resize(W, H)
    host.show()
    settle(app)
    create = time.process_time() - t0
    mid = items[len(items) // 2]
    fit(viewer, items)
    r = {"create_s": create, "fit_zoom": viewer.fit_scale}
    r["drag"] = time_drag(app, viewer, mid, repeat)
    r["repaint"] = time_repaint(app, viewer, repeat)
    zoom1(viewer, mid)
    r["drag@1"] = time_drag(app, viewer, mid, repeat)
    r["repaint@1"] = time_repaint(app, viewer, repeat)
    r["pan@1"] = time_pan(app, viewer, repeat)
    viewer.hide()
    host.close()
    del owner
    return r


def _drain(app) -> None:
    for _ in range(3):
        app.processEvents()


def delete_plain(app, n: int) -> tuple[float, float]:
    g, viewer, _items = build_plain(n)
    _drain(app)
    g.select_all()
    t0 = time.perf_counter()
    g.delete_nodes(g.selected_nodes())
    _drain(app)
    t1 = time.perf_counter()
    if g.all_nodes():
        raise RuntimeError("NodeGraphQt kept nodes")
    g.undo_stack().undo()
    _drain(app)
    t2 = time.perf_counter()
    if len(g.all_nodes()) != n:
        raise RuntimeError("NodeGraphQt's undo did not restore the nodes")
    viewer.close()
    return t1 - t0, t2 - t1


def delete_ours(app, n: int) -> tuple[float, float]:
    canvas, viewer, _items = build_ours(n)
    doc = canvas.doc
    wires_before = {(to, frm): w for to, frm, w in doc.network.wires()}
    _drain(app)
    canvas.select_all()
    t0 = time.perf_counter()
    doc.remove_neurons(canvas.selected_neurons())
    _drain(app)
    t1 = time.perf_counter()
    if len(canvas.nodes) != 1 or any(k[0][0] != "self" or k[1][0] != "self" for k in canvas.shown):
        raise RuntimeError("the studio kept nodes or wires")
    doc.undo_stack.undo()
    _drain(app)
    t2 = time.perf_counter()
    if len(canvas.nodes) != n + 1 or {(to, frm): w for to, frm, w in doc.network.wires()} != wires_before:
        raise RuntimeError("the studio's undo did not restore the graph")
    viewer.close()
    return t1 - t0, t2 - t1


def main_delete(app, sizes: list[int], repeat: int) -> None:
    print(
        f"{'nodes':>6} {'canvas':<12} {'delete s':>10} {'undo s':>10}   (Select all + Delete, Undo; best of {repeat})"
    )
    for n in sizes:
        rows = {}
        for name, fn in (("NodeGraphQt", delete_plain), ("studio", delete_ours)):
            runs = [fn(app, n) for _ in range(repeat)]
            rows[name] = (min(r[0] for r in runs), min(r[1] for r in runs))
            print(f"{n:>6} {name:<12} {rows[name][0]:>10.3f} {rows[name][1]:>10.3f}", flush=True)
        (pd, pu), (sd, su) = rows["NodeGraphQt"], rows["studio"]
        print(f"{'':>6} {'studio/NGQt':<12} {sd / pd:>9.2f}x {su / pu:>9.2f}x", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[200, 500, 1000])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--what", choices=["frames", "delete", "all"], default="frames")
    ap.add_argument("--delete", action="store_true", help="the same as --what delete")
    ap.add_argument("--delete-repeat", type=int, default=3)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    what = "delete" if args.delete else args.what
    if what in ("delete", "all"):
        main_delete(app, args.sizes, args.delete_repeat)
        if what == "delete":
            return
    cols = ["drag", "drag@1", "pan@1", "repaint", "repaint@1", "create_s", "fit_zoom"]
    print(f"{'nodes':>6} {'canvas':<12} " + " ".join(f"{c:>10}" for c in cols) + "   (ms; create in s)")
    for n in args.sizes:
        rows = {}
        for name, build in (("NodeGraphQt", build_plain), ("studio", build_ours)):
            rows[name] = measure(app, name, build, n, args.repeat)
            print(f"{n:>6} {name:<12} " + " ".join(f"{rows[name][c]:>10.1f}" for c in cols), flush=True)
        ratio = rows["NodeGraphQt"]["drag"] / max(rows["studio"]["drag"], 1e-6)
        print(f"{'':>6} {'ratio':<12} drag {ratio:.1f}x faster", flush=True)


if __name__ == "__main__":
    main()
