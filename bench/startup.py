"""Start-up time of the core and the studio, this tree against a git revision, side by side.

    python bench/startup.py --baseline REV [--rounds 5] [--file examples/waves.dmm.json]

Three things are timed in fresh interpreters, for this working tree and for
``REV`` (extracted with ``git archive`` into a temporary folder, run with
``PYTHONPATH`` pointing at it):

- ``import dmm_studio`` (wall time of ``python -c``, and whether torch came in);
- the studio's window as ``dmm-studio open FILE`` builds it, with the engine in
  the child process, up to the first frame of one step: the seconds to the
  window, to the first frame, and whether the UI process imported torch;
- ``dmm-studio open FILE --screenshot OUT.png`` (the screenshot mode, which
  steps its engine in the UI process).

Rounds alternate the two trees so that the load of a shared machine falls on
both alike; each figure is the median of the rounds. A benchmark, not a
test: it prints a table, asserts nothing.
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

WINDOW = r"""
import sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from dmm_studio.cli import build_parser
from dmm_studio.gui import launch
from dmm_studio.gui.main_window import MainWindow
out = {}

def drive():
    app = QApplication.instance()
    win = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    out["window"] = time.perf_counter() - t0
    out["torch_at_window"] = "torch" in sys.modules

    def on_frame(frame):
        if frame.t >= 1 and "frame" not in out:
            out["frame"] = time.perf_counter() - t0
            win.runner.shutdown()
            app.quit()

    win.runner.stepped.connect(on_frame)
    win.step(1)
    QTimer.singleShot(120_000, app.quit)

QTimer.singleShot(0, drive)
launch(build_parser().parse_args(["open", sys.argv[1]]))
print(out["window"], out.get("frame", float("nan")), out["torch_at_window"], "torch" in sys.modules)
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


def run(tree: Path, args: list[str], env_extra: dict[str, str] | None = None) -> tuple[float, str]:
    env = dict(os.environ, PYTHONPATH=str(tree), QT_QPA_PLATFORM="offscreen", **(env_extra or {}))
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True, timeout=300
    )
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(args)} failed:\n{r.stderr[-2000:]}")
    return wall, r.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="a git revision, e.g. HEAD~3")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--file", default="examples/waves.dmm.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {args.baseline: tree_of(args.baseline, Path(tmp) / "baseline"), "this tree": ROOT}
        rows: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
        torch_seen: dict[str, dict[str, bool]] = {name: {} for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                r = rows[name]
                wall, out = run(tree, ["-c", "import sys, dmm_studio; print('torch' in sys.modules)"])
                r.setdefault("import dmm_studio (s)", []).append(wall)
                torch_seen[name]["import dmm_studio"] = out.strip() == "True"
                _, out = run(tree, ["-c", WINDOW, str(ROOT / args.file)])
                window, frame, torch_window, torch_end = out.split()
                r.setdefault("studio: window shown (s)", []).append(float(window))
                r.setdefault("studio: first frame (s)", []).append(float(frame))
                torch_seen[name]["studio UI at window"] = torch_window == "True"
                torch_seen[name]["studio UI after a step"] = torch_end == "True"
                shot = str(Path(tmp) / "shot.png")
                wall, _ = run(
                    tree, ["-m", "dmm_studio.cli", "open", str(ROOT / args.file), "--screenshot", shot]
                )
                r.setdefault("open --screenshot (s)", []).append(wall)
    names = list(trees)
    print(f"{args.rounds} rounds, medians; load {os.getloadavg()[0]:.2f} (1 min)")
    print(f"{'':28}{names[0]:>14}{names[1]:>14}{'ratio':>8}")
    for key in rows[names[0]]:
        a, b = (statistics.median(rows[n][key]) for n in names)
        print(f"{key:28}{a:14.3f}{b:14.3f}{a / b:8.2f}")
    for key in torch_seen[names[0]]:
        print(f"torch imported, {key:22}" + "".join(f"{str(torch_seen[n][key]):>14}" for n in names))


if __name__ == "__main__":
    main()
