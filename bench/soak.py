"""Soak: a long headless run of the waves example, and how its memory grows.

    python bench/soak.py [--steps 1000000] [--engine compiled] [--checks 10]
    python bench/soak.py --studio 10

Runs ``--steps`` steps of ``examples/waves.dmm.json`` on a ``Machine`` with
everything a CLI run does by default (the size limits before each step, the
NaN/Inf check after it), and prints the process's resident memory (RSS) after
a warm-up of 1,000 steps and at ``--checks`` points along the way, the growth
over the run in percent (issue 11 asks for under 5 %), and the rate. At the
end it checks that the wave is still where it should be (Self's delta row
reads from update-2, update-3, update-1, ... for t = 1, 2, 3, ...), so a
run that leaks nothing but computes wrong does not pass for a good one.

The studio soak (``--studio MINUTES``): the studio as a user runs it (its
engine in a process of its own, the inspector installed, offscreen Qt), on a
network that grows: the waves example (Self rewrites W every step) with a
clock and a data.cons list (max_length 2,000: it grows for 2,000 steps, a
value 4,000 levels deep, then keeps its length), four live probes, running
flat out. Every minute it prints the RSS of the studio and of its engine
process, the steps and frames so far, and how late a 50 ms timer fired on the
studio's event loop (the UI's responsiveness: median, 99th percentile,
worst); at the end, the studio's full garbage collections (their pauses are
its longest stalls: the probes keep 200 frames of the list, a large heap
to scan). The growth is taken from the end of the first minute.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from pathlib import Path

from dmm_studio.fileformat import load_network

ROOT = Path(__file__).resolve().parent.parent


def rss_bytes() -> int:
    """The resident set size now (Linux: /proc/self/statm), else the peak."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def wave_reader(m) -> str:
    """The neuron Self's delta row reads from now."""
    row = m.matrix["self"]["self"]["delta"]["identity"]
    return next(iter(row))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--engine", default=None, help="reference or compiled (default: the CLI's)")
    ap.add_argument("--checks", type=int, default=10, help="how many RSS readings along the way")
    ap.add_argument("--studio", type=float, metavar="MINUTES", help="the studio soak instead (see below)")
    a = ap.parse_args()
    if a.studio:
        return studio_soak(a.studio)

    net = load_network(ROOT / "examples" / "waves.dmm.json")
    m = net.machine(engine=a.engine)
    warm = min(1000, a.steps)
    m.step(warm)
    gc.collect()
    base = rss_bytes()
    print(f"waves on {m.engine.name}: RSS after {warm:,} steps: {base / 2**20:,.1f} MiB", flush=True)
    left = a.steps - warm
    chunk = max(1, left // max(1, a.checks))
    start = time.perf_counter()
    done = 0
    peak = base
    while done < left:
        n = min(chunk, left - done)
        for _ in range(n):  # as dmm-studio run steps: the NaN/Inf check after each step
            m.step()
            if m.non_finite() is not None:
                print(f"a value went non-finite at step {m.t}", flush=True)
                return 1
        done += n
        gc.collect()
        now = rss_bytes()
        peak = max(peak, now)
        rate = done / (time.perf_counter() - start)
        print(
            f"  step {m.t:>10,}: RSS {now / 2**20:,.1f} MiB ({(now - base) / base:+.3%}), {rate:,.0f} steps/s",
            flush=True,
        )
    elapsed = time.perf_counter() - start
    end = rss_bytes()
    expected = f"update-{(m.t - 1) % 3 + 2 if (m.t - 1) % 3 + 2 <= 3 else 1}"
    reader = wave_reader(m)
    print(
        f"waves: {m.t:,} steps, RSS {base / 2**20:,.1f} -> {end / 2**20:,.1f} MiB "
        f"({(end - base) / base:+.3%}; peak {(peak - base) / base:+.3%}), "
        f"{done / elapsed if elapsed else 0:,.0f} steps/s; the wave reads from {reader} (expected {expected})"
    )
    return 0 if reader == expected and (end - base) / base < 0.05 else 1



# ---------------------------------------------------------------- the studio soak
def soak_network():
    net = load_network(ROOT / "examples" / "waves.dmm.json")
    net.set_weight(("time.clock", "clock", "tick"), ("time.clock", "clock", "t"), 1)
    net.set_weight(("data.cons", "l", "item"), ("time.clock", "clock", "t"), 1)
    net.set_weight(("data.cons", "l", "list"), ("data.cons", "l", "list"), 1)
    net.set_param("data.cons", "l", "max_length", 2000)
    return net


def studio_soak(minutes: float) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from dmm_studio.gui.document import Document
    from dmm_studio.gui.inspect import install
    from dmm_studio.gui.main_window import MainWindow
    from dmm_studio.recorder import ProbeSpec

    app = QApplication.instance() or QApplication([])
    win = MainWindow(Document(), process=True)
    win.resize(1300, 850)
    win.show()
    insp = install(win)
    path = str(ROOT / "examples" / "waves.dmm.json")
    win.open_network(soak_network(), path)
    for spec in (
        ProbeSpec("data.cons", "l", "length"),
        ProbeSpec("data.cons", "l", "list"),
        ProbeSpec("time.clock", "clock", "t"),
        ProbeSpec("identity", "update-1", "single"),
    ):
        insp.add_probe(spec)
    win.limit_box.setValue(0)  # flat out
    frames = [0]
    win.runner.stepped.connect(lambda _f: frames.__setitem__(0, frames[0] + 1))
    late: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        late.append(max(0, now - last[0] - 50))
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(50)
    # the studio's full garbage collections (what its longest stalls turned out to be)
    full: list[float] = []
    began: list[float] = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if info["generation"] == 2:
            if phase == "start":
                began[0] = time.perf_counter()
            else:
                full.append((time.perf_counter() - began[0]) * 1e3)

    gc.callbacks.append(on_gc)
    win.run()
    start = time.perf_counter()
    base: tuple[int, int] | None = None
    child = getattr(getattr(win.runner, "host", None), "proc", None)
    print(f"studio soak: {minutes:g} min, engine process {child.pid if child else '(a thread)'}", flush=True)
    minute = 0
    ok = True
    while minute < minutes:
        end = start + 60 * (minute + 1)
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)
        minute += 1
        gc.collect()
        last[0] = clock.elapsed()  # (the collection above is the soak's, not the studio's)
        ui, eng = rss_bytes(), (proc_rss(child.pid) if child else 0)
        if base is None:
            base = (ui, eng)
        lat = sorted(late)
        late.clear()
        p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0)
        print(
            f"  {minute:>2} min: step {win.runner.t:>9,}, {frames[0]:>7,} frames; RSS studio "
            f"{ui / 2**20:,.1f} MiB ({(ui - base[0]) / base[0]:+.2%}), engine {eng / 2**20:,.1f} MiB "
            f"({(eng - base[1]) / max(base[1], 1):+.2%}); timer late ms p50 {p(0.5):.0f} p99 {p(0.99):.0f} "
            f"max {lat[-1] if lat else 0:.0f}",
            flush=True,
        )
        if win.last_frame is not None and getattr(win, "live", False) is False:
            print("  the run stopped", flush=True)
            ok = False
            break
    win.runner.pause()
    gc.callbacks.remove(on_gc)
    full.sort()
    if full:
        print(
            f"studio's full garbage collections: {len(full)}, median {full[len(full) // 2]:.0f} ms, "
            f"longest {full[-1]:.0f} ms, {sum(full) / 1e3:.1f} s in all",
            flush=True,
        )
    ui, eng = rss_bytes(), (proc_rss(child.pid) if child else 0)
    assert base is not None
    growth = ((ui - base[0]) / base[0], (eng - base[1]) / max(base[1], 1))
    print(
        f"studio soak: {win.runner.t:,} steps in {minutes:g} min; RSS growth after minute 1: studio "
        f"{growth[0]:+.2%}, engine {growth[1]:+.2%} (issue 11 asks < 5 %)",
        flush=True,
    )
    win.doc.undo_stack.setClean()
    win.close()
    win.runner.shutdown()
    return 0 if ok and max(growth) < 0.05 else 1


def proc_rss(pid: int) -> int:
    """Another process's RSS (Linux /proc), 0 when unknown."""
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


if __name__ == "__main__":
    sys.exit(main())
