"""Soak: a long headless run of the waves example, and how its memory grows.

    python bench/soak.py [--steps 1000000] [--engine compiled] [--checks 10]

Runs ``--steps`` steps of ``examples/waves.dmm.json`` on a ``Machine`` with
everything a CLI run does by default (the size limits before each step, the
NaN/Inf check after it), and prints the process's resident memory (RSS) after
a warm-up of 1,000 steps and at ``--checks`` points along the way, the growth
over the run in percent (issue 11 asks for under 5 %), and the rate. At the
end it checks that the wave is still where it should be (Self's delta row
reads from update-2, update-3, update-1, ... for t = 1, 2, 3, ...), so a
run that leaks nothing but computes wrong does not pass for a good one.
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
    a = ap.parse_args()

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


if __name__ == "__main__":
    sys.exit(main())
