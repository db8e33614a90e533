"""Start-up time of the studio's window beside a bare Qt window, side by side.

    python bench/startup.py [--rounds 5] [--file examples/waves.dmm.json] [--baseline REV]

Each round starts fresh interpreters, one after the other, and times each from
the moment the process is spawned to the moment its window is shown (the
first turn of its event loop after ``show()``: the child prints a line, the
parent reads it), so that interpreter start-up and imports count alike:

- ``bare QMainWindow``: PySide6 alone, a ``QMainWindow`` with nothing in it;
- ``bare PySide6 + NodeGraphQt + pyqtgraph``: the same window with what the
  studio is built from (a NodeGraph canvas in the middle, a pyqtgraph plot in
  a dock) and nothing of the studio;
- ``studio (empty)``: ``dmm-studio`` with no file;
- ``studio (FILE)``: ``dmm-studio open FILE``, the engine in its child process.

Rounds alternate the four so that the load of a shared machine falls on all
alike; each figure is the median of the rounds, and the ratios are the
studio's over each bare window's. With ``--baseline REV`` the studio of that
git revision (extracted with ``git archive``) is timed in the same rounds.
Offscreen (``QT_QPA_PLATFORM=offscreen``) unless ``--platform`` says otherwise.
A benchmark, not a test: it prints a table, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# each child prints "shown <torch imported>" once its window is up, then quits
BARE = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow()
w.resize(1400, 900)
w.show()
def shown():
    print("shown", "torch" in sys.modules, flush=True)
    app.quit()
QTimer.singleShot(0, shown)
app.exec()
"""

BARE_STACK = r"""
import sys
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow
from NodeGraphQt import NodeGraph
import pyqtgraph as pg
app = QApplication(sys.argv[:1])
w = QMainWindow()
graph = NodeGraph()
w.setCentralWidget(graph.widget)
dock = QDockWidget("plot", w)
dock.setWidget(pg.PlotWidget())
w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
w.resize(1400, 900)
w.show()
def shown():
    print("shown", "torch" in sys.modules, flush=True)
    app.quit()
QTimer.singleShot(0, shown)
app.exec()
"""

STUDIO = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from dmm_studio.cli import build_parser
from dmm_studio.gui import launch
from dmm_studio.gui.main_window import MainWindow

def shown():
    app = QApplication.instance()
    win = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    assert win.isVisible()
    print("shown", "torch" in sys.modules, flush=True)
    win.runner.shutdown()
    app.quit()

QTimer.singleShot(0, shown)
launch(build_parser().parse_args(sys.argv[1:]))
"""


def tree_of(rev: str, into: Path) -> Path:
    """``rev`` of this repository as files under ``into`` (with the pack's installed name)."""
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    with tempfile.TemporaryFile() as f:
        f.write(archive)
        f.seek(0)
        with tarfile.open(fileobj=f) as tar:
            tar.extractall(into, filter="data")
    (into / "dmm_studio_nodes").symlink_to("nodes")
    return into


def time_to_window(code: str, args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, bool]:
    """Seconds from spawning ``python -c code args`` to its "shown" line; whether it had torch."""
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None
    line = ""
    for line in p.stdout:
        if line.startswith("shown"):
            break
    seconds = time.perf_counter() - t0
    try:
        _, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    if not line.startswith("shown"):
        raise SystemExit(f"{' '.join(args) or 'bare'}: no window (exit {p.returncode}):\n{err[-2000:]}")
    return seconds, line.split()[1] == "True"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--file", default="examples/waves.dmm.json")
    ap.add_argument("--baseline", help="also time the studio of this git revision, e.g. HEAD~3")
    ap.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    args = ap.parse_args()
    file = str(ROOT / args.file)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM=args.platform)
        # the studio keeps no layout or recent files of this bench's runs
        env["XDG_CONFIG_HOME"] = env["XDG_STATE_HOME"] = env["XDG_DATA_HOME"] = tmp
        here = dict(env, PYTHONPATH=str(ROOT))
        runs: dict[str, tuple[str, list[str], dict[str, str], Path]] = {
            "bare QMainWindow": (BARE, [], env, ROOT),
            "bare PySide6+NodeGraphQt+pyqtgraph": (BARE_STACK, [], env, ROOT),
            "studio (empty)": (STUDIO, [], here, ROOT),
            f"studio ({Path(args.file).name})": (STUDIO, ["open", file], here, ROOT),
        }
        if args.baseline:
            tree = tree_of(args.baseline, Path(tmp) / "baseline")
            base = dict(env, PYTHONPATH=str(tree))
            runs[f"studio {args.baseline} ({Path(args.file).name})"] = (STUDIO, ["open", file], base, tree)
        times: dict[str, list[float]] = {name: [] for name in runs}
        torch: dict[str, bool] = {}
        for _ in range(args.rounds):
            for name, (code, argv, e, cwd) in runs.items():
                s, had_torch = time_to_window(code, argv, e, cwd)
                times[name].append(s)
                torch[name] = had_torch
    med = {name: statistics.median(v) for name, v in times.items()}
    bare, stack = med["bare QMainWindow"], med["bare PySide6+NodeGraphQt+pyqtgraph"]
    print(
        f"time to window, {args.rounds} rounds side by side, medians; platform {args.platform}; "
        f"load {os.getloadavg()[0]:.2f} (1 min)"
    )
    print(f"{'':44}{'seconds':>9}{'/ bare':>9}{'/ stack':>9}{'torch':>7}")
    for name, s in med.items():
        print(f"{name:44}{s:9.3f}{s / bare:9.2f}{s / stack:9.2f}{str(torch[name]):>7}")
    print(f"(each: {', '.join(f'{n}: ' + ' '.join(f'{x:.2f}' for x in v) for n, v in times.items())})")


if __name__ == "__main__":
    main()
