"""The minimap's cost beside the canvas's own, measured side by side in one run.

For networks of 200, 500 and 1,000 neurons (bench/canvas.py's graph: a ring
plus one chord per neuron, on a grid) in a main window at 1400 x 900, zoomed
to 1:
- picture: the minimap drawing its picture of the whole network (``refresh``,
  done only when the network changed);
- poll: the check it runs every 300 ms (the signature of node places);
- drag frame: a drag in the minimap (the canvas recentred, then repainted),
  beside a plain pan of the canvas by the same distance with the minimap hidden.

    QT_QPA_PLATFORM=offscreen python bench/minimap.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def best(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1000, statistics.median(times) * 1000


def main() -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from canvas import edges, grid  # bench/canvas.py
    from dmm_studio.gui.main_window import MainWindow
    from dmm_studio.network import Network

    app = QApplication.instance() or QApplication(sys.argv[:1])
    print(f"{'neurons':>8} {'picture ms':>11} {'poll ms':>8} {'drag frame ms':>14} {'pan frame ms':>13} {'ratio':>6}")
    for n in (200, 500, 1000):
        net = Network.empty()
        for i in range(n):
            net.add_neuron("identity", f"n{i}", grid(i, n))
        for a, b in edges(n):
            net.set_weight(("identity", f"n{b}", "single"), ("identity", f"n{a}", "single"), 1)
        net.set_pos("self", "self", (0.0, -300.0))
        win = MainWindow()
        win.resize(1400, 900)
        win.show()
        win.open_network(net, ask=False)
        app.processEvents()
        v, mm = win.canvas.viewer, win.minimap
        win.canvas.frame_all()
        v.scale(1 / v.transform().m11(), 1 / v.transform().m11())
        app.processEvents()
        mm.set_choice(True)
        app.processEvents()
        picture = best(mm.refresh)[1]
        poll = best(mm._signature)[1]
        c = v.visible_rect().center()
        k = [0]

        def drag() -> None:  # what a mouse move in the minimap does
            k[0] += 1
            v.center_on(QPointF(c.x() + 40 * (k[0] % 2), c.y()))
            v.viewport().repaint()
            mm.repaint()

        drag_ms = best(drag)[1]
        mm.set_choice(False)
        app.processEvents()

        def pan() -> None:  # NodeGraphQt's own pan, same distance
            k[0] += 1
            v._set_viewer_pan(40 if k[0] % 2 else -40, 0)
            v.viewport().repaint()

        pan_ms = best(pan)[1]
        print(f"{n:>8} {picture:>11.1f} {poll:>8.2f} {drag_ms:>14.1f} {pan_ms:>13.1f} {drag_ms / pan_ms:>6.2f}")
        win.runner.shutdown()
        win.close()
        win.deleteLater()
        app.processEvents()


if __name__ == "__main__":
    main()
