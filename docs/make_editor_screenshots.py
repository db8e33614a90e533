"""Screenshots of the editor features (docs/screenshots/): the minimap on a
network of 400 neurons, the light and the dark theme with a backdrop and a
comment, and the help browser. Run offscreen:

    QT_QPA_PLATFORM=offscreen python docs/make_editor_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]


def big_network(n: int = 400):
    from dmm_studio.network import Network

    kinds = [("identity", "single", "single"), ("arith.tanh", "in", "out"), ("arith.relu", "in", "out")]
    net = Network.empty()
    cols = max(1, int(math.sqrt(n * 1.6)))
    for i in range(n):
        t = kinds[i % 3][0]
        net.add_neuron(t, f"n{i}", ((i % cols) * 260.0, (i // cols) * 150.0))
    net.set_pos("self", "self", (cols * 130.0, -300.0))
    for i in range(n):
        for j in ((i + 1) % n, (i * 7 + 3) % n):
            a, b = kinds[i % 3], kinds[j % 3]
            net.set_weight((b[0], f"n{j}", b[1]), (a[0], f"n{i}", a[2]), 1)
    return net


def main(out: Path) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from dmm_studio.fileformat import load_network
    from dmm_studio.gui import theme
    from dmm_studio.gui.document import Document
    from dmm_studio.gui.main_window import MainWindow
    from dmm_studio.gui.typehelp import HelpBrowser

    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = MainWindow(Document())
    win.resize(1400, 900)
    win.show()
    app.processEvents()

    # the minimap on 400 neurons, the canvas zoomed in on a part of them
    win.open_network(big_network(), ask=False)
    app.processEvents()
    win.canvas.frame_all()
    v = win.canvas.viewer
    v.scale(4.5, 4.5)
    v.center_on(QPointF(1300, 700))
    app.processEvents()
    win.minimap.refresh()
    app.processEvents()
    win.grab().save(str(out / "minimap.png"))

    # the themes, on an example with a backdrop and a comment
    win.open_network(load_network(ROOT / "examples" / "fuzzy_if.dmm.json"), ask=False)
    app.processEvents()
    canvas = win.canvas
    canvas.select([("arith.gate", "then"), ("arith.gate", "else"), ("identity", "result")])
    canvas.notes.add_backdrop(title="if s then A else B")
    canvas.select([])
    x, y = canvas.node_pos(("time.clock", "clock"))
    canvas.notes.add_comment((x, y - 150.0), "s = 0.5 + 0.5 sin(2 pi t / 40): the condition, in [0, 1]")
    canvas.frame_all()
    app.processEvents()
    for name in ("light", "dark"):
        theme.apply_theme(win, name)
        app.processEvents()
        win.grab().save(str(out / f"theme-{name}.png"))
    theme.apply_theme(win, "system")

    dlg = HelpBrowser(win, "data.cons")
    dlg.show()
    app.processEvents()
    dlg.grab().save(str(out / "help-browser.png"))
    win.runner.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
