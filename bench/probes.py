"""Probes under load: 16 live probes while the engine runs flat out in its thread.

    python bench/probes.py [--seconds 2] [--rounds 3] [--engine compiled|reference|all]
                           [--runner process|thread|all] [--breaks off|on|both]

``--runner``: the engine host in a process of its own (``Runner``'s default,
what the studio uses) or in a thread of the UI's process (``Runner(thread=True)``,
the same host over the same messages). It also prints the share of the engine's time spent recording and
sending frames, and a step's own time with and without the UI drawing.

``--breaks``: the NaN/Inf break (on as the studio opens, since issue 11) off,
on, or both. The verdict on the last line is for the studio as it opens: the
engine in its own process, with the NaN/Inf break.

For each engine, runner, frame mode and break setting, one runner (flat
out) alternates, ``--rounds`` times, between

* baseline: the inspector switched off (nothing recorded, window hidden);
* inspected: every step recorded (history, 16 probe buffers, break checks)
  and 16 probes plus the Self view shown in a 1400 x 900 window;

so both see the same background load (the project's machines are shared).
Printed, as medians over the rounds: steps/s of both and the slowdown; probe
frames drawn per second; the longest UI stall (the largest gap between ticks
of a 10 ms UI timer, less 10 ms; the timer runs in both phases); the UI
thread's CPU use. Frame modes: "fixed" (30 frames/s, drawn a few probes per
event-loop turn) and "governed" (the frame rate lowered while the UI thread
is busier than ``--budget``). Targets: >= 30 frames/s, no stall over 50 ms,
slowdown <= 20 %. Offscreen (QT_QPA_PLATFORM=offscreen) unless a display is set.
"""

from __future__ import annotations

import argparse
import os
import statistics
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
from dmm_studio.gui.runner import Runner  # noqa: E402
from dmm_studio.recorder import ProbeSpec  # noqa: E402

TICK_MS = 10


def probe_specs(net, n: int = 16) -> list[ProbeSpec]:
    """Every output of the network's neurons (not Self's matrix), then inputs, up to n."""
    specs: list[ProbeSpec] = []
    m = net.machine(engine="reference")
    m.step(2)
    for f, names in m.state.items():
        for name, outs in names.items():
            for o in outs:
                if f != "self":
                    specs.append(ProbeSpec(f, name, o))
    for f, names in matrix_of(m.state).items():
        for name, rows in names.items():
            for i in rows:
                specs.append(ProbeSpec(f, name, i, side="input"))
    return specs[:n]


class Stalls(QtCore.QObject):
    """The gaps between ticks of a 10 ms timer in the UI thread."""

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


POLL = False  # --poll: the old harness (processEvents + sleep(1 ms) in a loop)


def wait(app: QtWidgets.QApplication, seconds: float) -> None:
    """Let the UI run for ``seconds`` as the studio does: in Qt's event loop,
    asleep in C++ until an event comes (``--poll``: the earlier harness, a loop
    of processEvents and 1 ms sleeps, which wakes the UI thread and takes the
    GIL ~1,000 times a second, from the engine too)."""
    if POLL:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.001)
        return
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(max(1, int(seconds * 1000)), loop.quit)
    loop.exec()


def window_with(insp: Inspector) -> QtWidgets.QMainWindow:
    win = QtWidgets.QMainWindow()
    split = QtWidgets.QSplitter()
    split.addWidget(insp.probes)
    split.addWidget(insp.self_view)
    split.setSizes([1000, 400])
    win.setCentralWidget(split)
    win.resize(1400, 900)
    return win


def bench(
    app,
    net_path: Path,
    engine: str,
    seconds_: float,
    rounds: int,
    budget: float | None,
    n: int = 16,
    process: bool = False,
    breaks: bool = True,
) -> dict:
    net = load_network(net_path)
    specs = probe_specs(net, n)
    runner = Runner(engine, thread=not process)
    insp = Inspector(fps=30)
    insp.budget = budget
    win = window_with(insp)
    for s in specs:
        insp.add_probe(s)
    insp.breaks_view.nan.setChecked(breaks)  # the NaN/Inf break: off unless asked for
    insp.attach(runner)
    runner.load(net.copy())
    stalls = Stalls()
    wait(app, 0.3)
    deadline = time.perf_counter() + 60
    while runner.last is None and time.perf_counter() < deadline:  # the engine's process starts
        wait(app, 0.1)
    runner.run()
    wait(app, 0.5)
    out: dict[str, list[float]] = {
        k: []
        for k in ("base", "rate", "fps", "stall", "busy", "base_stall", "us_base", "us_step", "rec", "frm")
    }

    def seconds() -> tuple[int, dict[str, float]]:
        """The engine host: its step and where its time went."""
        last = runner.last
        return (last.t, dict(last.stats.get("seconds", {}))) if last is not None else (0, {})

    for _ in range(rounds):
        # baseline
        insp.set_live(False)
        win.hide()
        wait(app, 0.4)
        stalls.reset()
        t0, s0 = runner.t, time.perf_counter()
        a = seconds()
        wait(app, seconds_)
        out["base"].append((runner.t - t0) / (time.perf_counter() - s0))
        b = seconds()
        if b[0] > a[0]:
            out["us_base"].append(1e6 * (b[1]["step"] - a[1]["step"]) / (b[0] - a[0]))
        out["base_stall"].append(max(stalls.gaps) * 1000 - TICK_MS if stalls.gaps else 0.0)
        # inspected
        win.show()
        insp.set_live(True)
        wait(app, 0.6)
        stalls.reset()
        f0, c0 = insp.frames, time.thread_time()
        t0, s0 = runner.t, time.perf_counter()
        a = seconds()
        wait(app, seconds_)
        dt = time.perf_counter() - s0
        b = seconds()
        if b[0] > a[0]:
            d = {k: b[1][k] - a[1][k] for k in ("step", "record", "frame")}
            whole = sum(d.values())
            out["us_step"].append(1e6 * d["step"] / (b[0] - a[0]))
            out["rec"].append(d["record"] / whole)
            out["frm"].append(d["frame"] / whole)
        out["rate"].append((runner.t - t0) / dt)
        out["fps"].append((insp.frames - f0) / dt)
        out["busy"].append((time.thread_time() - c0) / dt)
        out["stall"].append(max(stalls.gaps) * 1000 - TICK_MS if stalls.gaps else 0.0)
    runner.pause()
    wait(app, 0.2)
    kinds = sorted({w.kind for w in insp.probes.widgets.values()})
    visible = sum(1 for w in insp.probes.widgets.values() if w.isVisible())
    runner.shutdown()
    insp.timer.stop()
    win.close()
    med = {k: statistics.median(v) if v else float("nan") for k, v in out.items()}
    slow = [1 - r / b for r, b in zip(out["rate"], out["base"], strict=True) if b]
    med["slowdown"] = statistics.median(slow) if slow else 0.0
    med["probes"], med["visible"], med["kinds"] = len(specs), visible, ",".join(kinds)
    med["draw"] = float(np.median(insp.frame_times) * 1000) if insp.frame_times else float("nan")
    return med


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each phase")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--probes", type=int, default=16)
    ap.add_argument("--modes", default="fixed", help="fixed, governed or both (fixed,governed)")
    ap.add_argument("--engine", default="compiled", help="compiled, reference or all")
    ap.add_argument(
        "--breaks",
        default="both",
        choices=["off", "on", "both"],
        help="the NaN/Inf break off (the probes alone), on (the studio's default), or both one after the other",
    )
    ap.add_argument(
        "--runner",
        default="all",
        help="thread (the engine in a thread of the UI's process), process (in a process of "
        "its own: what the studio uses), or all",
    )
    ap.add_argument("--budget", type=float, default=0.2, help="UI time budget of the governed mode")
    ap.add_argument("--file", default=str(ROOT / "examples" / "softmax_images.dmm.json"))
    ap.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: on 2 shared cores, 2 threads made a 32x32 "
        "softmax-matmul ~400x slower under load, which hides everything else)",
    )
    ap.add_argument(
        "--switch-ms", type=float, default=None, help="sys.setswitchinterval, in ms (Python's default: 5)"
    )
    ap.add_argument(
        "--poll", action="store_true", help="wait in a processEvents + sleep loop (the old harness)"
    )
    args = ap.parse_args()
    global POLL
    POLL = args.poll
    torch.set_num_threads(args.torch_threads)
    if args.switch_ms is not None:
        sys.setswitchinterval(args.switch_ms / 1000)
    from dmm_studio.engine import ENGINES

    engines = sorted(ENGINES) if args.engine == "all" else [args.engine]
    runners = ["process", "thread"] if args.runner == "all" else [args.runner]
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    print(
        f"network: {Path(args.file).name}; {args.rounds} rounds of {args.seconds:g} s + {args.seconds:g} s;"
        f" Qt platform {app.platformName()}; torch threads {torch.get_num_threads()};"
        f" GIL switch interval {sys.getswitchinterval() * 1000:g} ms;"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores;"
        f" UI waits in {'a polling loop' if POLL else 'the event loop'}"
    )
    ok: bool | None = None  # the studio's default configuration met every target
    breaks = {"off": [False], "on": [True], "both": [False, True]}[args.breaks]
    budgets = [None] * ("fixed" in args.modes) + [args.budget] * ("governed" in args.modes)
    runs = [(e, w, b, nan) for w in runners for e in engines for b in budgets for nan in breaks]
    for engine, where, budget, nan in runs:
        r = bench(
            app,
            Path(args.file),
            engine,
            args.seconds,
            args.rounds,
            budget,
            args.probes,
            where == "process",
            nan,
        )
        mode = "fixed 30 frames/s" if budget is None else f"governed, UI budget {budget:.0%}"
        what = "with the NaN/Inf break (the default)" if nan else "no break"
        print(
            f"[{engine} in a {where}, {mode}, {what}] {r['probes']} probes ({r['visible']} visible; views {r['kinds']}) + Self view\n"
            f"  engine: {r['base']:,.0f} steps/s baseline, {r['rate']:,.0f} inspected"
            f" -> slowdown {100 * r['slowdown']:.1f} % (target <= 20 %)\n"
            f"  UI: {r['fps']:.1f} probe frames/s (target >= 30); longest stall {r['stall']:.0f} ms"
            f" (target <= 50; baseline {r['base_stall']:.0f} ms); UI thread CPU {r['busy']:.0%};"
            f" a frame from first probe to last {r['draw']:.1f} ms"
        )
        print(
            f"  in the engine host, inspected: recording {r['rec']:.1%} and frames"
            f" {r['frm']:.1%} of its time; a step itself {r['us_base']:.0f} us baseline,"
            f" {r['us_step']:.0f} us inspected (the rest of the slowdown: sharing the machine"
            f" with the UI{'' if where == 'thread' else chr(39) + 's process'})"
        )
        if where == "process" and nan:  # the studio as it opens
            met = r["slowdown"] <= 0.20 and r["fps"] >= 30 and r["stall"] <= 50
            ok = met if ok is None else ok and met
    verdict = {None: "not run", True: "all targets met", False: "some targets missed"}[ok]
    print(f"the studio's default (engine process, NaN/Inf break on): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
