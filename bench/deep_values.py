"""Deep values: does a step slow down as a data.cons list grows?

    python bench/deep_values.py [--items 1000 10000] [--window 100] [--rounds 5] [--engine compiled]

A data.cons list with max_length 0 (no limit) is fed one item every step, on
a Machine with everything a CLI run does by default (the size bounds before
each step, the NaN/Inf check after it). For each ``--items`` size a machine
runs up to that length; then the machines are timed in turn, ``--window``
steps at a time for ``--rounds`` rounds (a busy computer slows each alike),
and it prints the median steps/s of each; the last line gives each rate over
the first one's (1.00: no slowdown). The
issue measured 137 steps/s at 600 items, falling as the list grew, and a
RecursionError at step 988.
"""

from __future__ import annotations

import argparse
import statistics
import time

from dmm_studio.network import Network


def cons_network() -> Network:
    w = {
        "self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}},
        "data.cons": {
            "l": {"item": {"identity": {"one": {"single": 1}}}, "list": {"data.cons": {"l": {"list": 1}}}}
        },
        "identity": {"one": {"single": {"identity": {"one": {"single": 1}}}}},
    }
    return Network(
        outputs={"self": {"self": {"network_matrix": w}}, "identity": {"one": {"single": 1}}},
        params={"data.cons": {"l": {"max_length": 0}}},
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, nargs="+", default=[1000, 10_000])
    ap.add_argument("--window", type=int, default=100, help="steps timed at a time")
    ap.add_argument("--rounds", type=int, default=5, help="windows per size, taken in turn")
    ap.add_argument("--engine", default=None, help="reference or compiled (default: the CLI's)")
    a = ap.parse_args()

    machines = []
    for n in sorted(a.items):
        m = cons_network().machine(engine=a.engine)
        start = time.perf_counter()
        while m.t < n:
            m.step()
            m.non_finite()
        print(f"{m.engine.name}: built a list of {n:,} items in {time.perf_counter() - start:,.1f} s", flush=True)
        machines.append(m)
    # the sizes are timed in turn, window by window, so that a busy machine
    # slows each of them alike; the median window of each is reported
    rates: list[list[float]] = [[] for _ in machines]
    for _ in range(a.rounds):
        for m, got in zip(machines, rates):
            start = time.perf_counter()
            for _ in range(a.window):
                m.step()
                m.non_finite()
            got.append(a.window / (time.perf_counter() - start))
    medians = [statistics.median(r) for r in rates]
    for n, m, r in zip(sorted(a.items), machines, medians):
        length = m.output("data.cons", "l", "length")[":number"]
        print(f"{m.engine.name}: {r:,.0f} steps/s at {n:,} items (median of {a.rounds} windows; now {length:,.0f})")
    print("ratios to the first: " + ", ".join(f"{r / medians[0]:.2f}" for r in medians))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
