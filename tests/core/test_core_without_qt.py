"""The core never imports Qt: checked statically (import-linter) and by running
it with Qt, NodeGraphQt and pyqtgraph made impossible to import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BLOCKED_RUN = r"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"PySide6", "NodeGraphQt", "pyqtgraph", "Qt", "shiboken6"}:
            raise ImportError(f"blocked in this test: {name}")
sys.meta_path.insert(0, Block())
import dmm_studio, dmm_studio.cli, dmm_studio.history, dmm_studio.breaks, dmm_studio.fields, dmm_studio_nodes
from dmm_studio import load
m = load(sys.argv[1]).machine(engine="reference")
m.step(6)
assert dmm_studio.cli.main(["run", sys.argv[1], "--steps", "3", "--engine", "reference"]) == 0
leaked = [k for k in sys.modules if k.split(".")[0] in {"PySide6", "NodeGraphQt", "pyqtgraph", "Qt"}]
assert not leaked, leaked
print("ok", m.t)
"""


def test_core_runs_with_qt_blocked():
    r = subprocess.run(
        [sys.executable, "-c", BLOCKED_RUN, str(ROOT / "examples" / "waves.dmm.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    assert "ok 6" in r.stdout


def test_import_contract():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.fail("lint-imports is missing: install the test extra (pip install -e '.[test]')")
    r = subprocess.run([exe], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    for contract in (
        "The core never imports Qt",
        "The core never imports the built-in pack dmm_studio_nodes",
        "The core is layered, from the V-value algebra up to the studio",
        "No import cycles between the modules of a package",
    ):
        assert any(line.startswith(contract) and " KEPT" in line for line in r.stdout.splitlines()), contract
