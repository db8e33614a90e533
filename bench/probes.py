"""Probes under load: 16 live probes while the engine runs flat out in its thread.

    python bench/probes.py [--seconds 4] [--engine compiled|reference|all] [--file F]

For each engine, side by side in one run:

* baseline: the studio's ``Runner`` stepping flat out, nothing inspecting;
* inspected: the same, with the inspector tapped on (every step recorded:
  history, 16 probe buffers, break checks) and 16 probes plus the Self view
  shown in a 1400 x 900 window, redrawn at frame rate.

Printed: steps/s of both and the slowdown; probe frames drawn per second;
the longest UI stall (the largest gap between ticks of a 10 ms UI timer,
less 10 ms) and the 99th percentile gap; the time one frame of drawing takes.
Targets: >= 30 frames/s, no stall over 50 ms, slowdown <= 20 %.
Offscreen (QT_QPA_PLATFORM=offscreen) unless a display is set.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

from dmm_studio.engine.base import matrix_of  # noqa: E402
from dmm_studio.fileformat import load_network  # noqa: E402
from dmm_studio.gui.inspect.inspector import Inspector  # noqa: E402
from dmm_studio.gui.inspect.recorder import ProbeSpec  # noqa: E402
from dmm_studio.gui.runner import Runner  # noqa: E402


def probe_specs(net, n: int = 16) -> list[ProbeSpec]:
    """Every output of the network's neurons (not Self's matrix), then inputs, up to n."""
    specs: list[ProbeSpec] = []
    state = net.machine(engine="reference")
    state.step(2)
    for f, names in state.state.items():
        for name, outs in names.items():
            for o in outs:
                if f != "self":
                    specs.append(ProbeSpec(f, name, o))
    for f, names in matrix_of(state.state).items():
        for name, rows in names.items():
            for i in rows:
                specs.append(ProbeSpec(f, name, i, side="input"))
    return specs[:n]


TICK_MS = 10


class Stalls(QtCore.QObject):
    """The gaps between ticks of a 10 ms timer in the UI thread (it runs in the
    baseline too: it costs the engine a little, the same in both runs)."""

    def __init__(self) -> None:
        super().__init__()
        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.timer.start(TICK_MS)

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def reset(self) -> None:
        self.gaps.clear()
        self.last = time.perf_counter()


def wait(app: QtWidgets.QApplication, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.001)


def measure_rate(app, runner: Runner, seconds: float) -> float:
    """Steps per second over ``seconds`` of flat-out running (after a warm-up)."""
    stalls = Stalls()  # noqa: F841 (the same instrument as in the inspected run)
    runner.run()
    wait(app, 0.7)
    t0, s0 = runner.t, time.perf_counter()
    wait(app, seconds)
    t1, s1 = runner.t, time.perf_counter()
    runner.pause()
    wait(app, 0.2)
    return (t1 - t0) / (s1 - s0)


def bench(app, net_path: Path, engine: str, seconds: float, budget: float | None = None) -> dict[str, float]:
    net = load_network(net_path)
    specs = probe_specs(net)
    # baseline: the runner alone
    runner = Runner(engine)
    runner.load(net.copy())
    wait(app, 0.3)
    base = measure_rate(app, runner, seconds)
    runner.shutdown()

    # inspected: tap + 16 probes + the Self view in a window
    runner = Runner(engine)
    insp = Inspector(fps=30)
    insp.budget = budget
    win = QtWidgets.QMainWindow()
    split = QtWidgets.QSplitter()
    split.addWidget(insp.probes)
    split.addWidget(insp.self_view)
    split.setSizes([1000, 400])
    win.setCentralWidget(split)
    win.resize(1400, 900)
    for s in specs:
        insp.add_probe(s)
    win.show()
    insp.attach(runner)
    runner.load(net.copy())
    wait(app, 0.5)
    stalls = Stalls()
    runner.run()
    wait(app, 0.7)
    insp.frames, insp.frame_times = 0, []
    stalls.reset()
    t0, s0 = runner.t, time.perf_counter()
    wait(app, seconds)
    t1, s1 = runner.t, time.perf_counter()
    frames = insp.frames
    gaps = np.array(stalls.gaps) * 1000
    draw = np.array(insp.frame_times) * 1000
    runner.pause()
    wait(app, 0.2)
    recorded = insp.recorder.steps_recorded
    visible = sum(1 for w in insp.probes.widgets.values() if w.isVisible())
    kinds = sorted({w.kind for w in insp.probes.widgets.values()})
    runner.shutdown()
    insp.timer.stop()
    win.close()
    rate = (t1 - t0) / (s1 - s0)
    return {
        "busy": insp.busy,
        "probes": len(specs),
        "visible": visible,
        "kinds": ",".join(kinds),
        "base": base,
        "rate": rate,
        "slowdown": 1 - rate / base if base else 0.0,
        "fps": frames / (s1 - s0),
        "stall_max": float(gaps.max() - TICK_MS) if gaps.size else float("nan"),
        "gap_p99": float(np.percentile(gaps, 99)) if gaps.size else float("nan"),
        "draw_mean": float(draw.mean()) if draw.size else float("nan"),
        "draw_p95": float(np.percentile(draw, 95)) if draw.size else float("nan"),
        "recorded": recorded,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--engine", default="all")
    ap.add_argument("--file", default=str(ROOT / "examples" / "softmax_images.dmm.json"))
    ap.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: on 2 shared cores, 2 threads make a 32x32 "
        "softmax-matmul ~400x slower under load, which hides everything else)",
    )
    ap.add_argument("--budget", type=float, default=0.2, help="UI time budget for the governed run")
    args = ap.parse_args()
    torch.set_num_threads(args.torch_threads)
    from dmm_studio.engine import ENGINES

    engines = sorted(ENGINES) if args.engine == "all" else [args.engine]
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    print(
        f"network: {Path(args.file).name}; {args.seconds:g} s each; Qt platform {app.platformName()};"
        f" torch threads {torch.get_num_threads()}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    ok = True
    for engine, budget in [(e, b) for e in engines for b in (None, args.budget)]:
        r = bench(app, Path(args.file), engine, args.seconds, budget)
        mode = (
            "fixed 30 frames/s" if budget is None else f"frame rate governed to a UI budget of {budget:.0%}"
        )
        print(
            f"[{engine}, {mode}] {r['probes']} probes ({r['visible']} visible; views {r['kinds']}) + Self view\n"
            f"  engine: {r['base']:,.0f} steps/s alone, {r['rate']:,.0f} steps/s inspected"
            f" -> slowdown {100 * r['slowdown']:.1f} % (target <= 20 %)\n"
            f"  UI: {r['fps']:.1f} probe frames/s (target >= 30); longest stall {r['stall_max']:.1f} ms"
            f" (target <= 50), 99th pct timer gap {r['gap_p99']:.1f} ms\n"
            f"  one frame of drawing: mean {r['draw_mean']:.1f} ms, p95 {r['draw_p95']:.1f} ms;"
            f" steps recorded {r['recorded']:,}; UI thread busy {r['busy']:.0%}"
        )
        ok = ok and r["slowdown"] <= 0.20 and r["fps"] >= 30 and r["stall_max"] <= 50
    print("all targets met" if ok else "some targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
