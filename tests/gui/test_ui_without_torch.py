"""The studio's UI process imports torch only if it steps an engine itself:
``dmm-studio open FILE`` runs the engine in a child process, so the window,
the design, the inspectors and a run of a few steps leave torch out of the UI
process. Checked in a fresh interpreter with torch made impossible to import
(a traceback then names the importer), through ``launch`` as the command runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ..conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.gui

UI_RUN = r"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError(f"torch imported in the studio's UI process: {name}")
sys.meta_path.insert(0, Block())

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from dmm_studio.cli import build_parser
from dmm_studio.gui import launch
from dmm_studio.gui.main_window import MainWindow

seen = {"t": 0, "process": None}

def drive():
    app = QApplication.instance()
    win = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    seen["process"] = type(win.runner.host).__name__  # HostProcess: the engine in a child

    def on_frame(frame):
        seen["t"] = max(seen["t"], frame.t)
        if frame.t >= 5:
            win.runner.shutdown()
            app.quit()

    win.runner.stepped.connect(on_frame)
    win.runner.failed.connect(lambda m: (print("failed", m), app.quit()))
    win.step(5)
    QTimer.singleShot(60_000, app.quit)

QTimer.singleShot(0, drive)
code = launch(build_parser().parse_args(["open", sys.argv[1]]))
assert "torch" not in sys.modules, "torch is in sys.modules"
print("ok", code, seen["process"], seen["t"])
"""


def test_studio_window_with_the_process_runner_leaves_torch_out():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run(
        [sys.executable, "-c", UI_RUN, str(EXAMPLES / "waves.dmm.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-4:] == ["ok", "0", "HostProcess", "5"], r.stdout + r.stderr
