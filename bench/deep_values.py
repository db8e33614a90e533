"""Deep values: does a step slow down as a data.cons list grows?

    python bench/deep_values.py [--items 1000 10000] [--window 500] [--engine compiled]

A data.cons list with max_length 0 (no limit) is fed one item every step, on
a Machine with everything a CLI run does by default (the size bounds before
each step, the NaN/Inf check after it). For each ``--items`` size it runs up
to that length, then times ``--window`` more steps, and prints steps/s there;
the last line gives each rate over the first one's (1.00: no slowdown). The
issue measured 137 steps/s at 600 items, falling as the list grew, and a
RecursionError at step 988.
"""

from __future__ import annotations

import argparse
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
    ap.add_argument("--window", type=int, default=500)
    ap.add_argument("--engine", default=None, help="reference or compiled (default: the CLI's)")
    a = ap.parse_args()

    m = cons_network().machine(engine=a.engine)
    rates = []
    for n in sorted(a.items):
        while m.t < n:
            m.step()
            m.non_finite()
        start = time.perf_counter()
        for _ in range(a.window):
            m.step()
            m.non_finite()
        rate = a.window / (time.perf_counter() - start)
        rates.append(rate)
        length = m.output("data.cons", "l", "length")[":number"]
        print(f"{m.engine.name}: {rate:,.0f} steps/s from {n:,} to {m.t:,} items (length {length:,.0f})")
    print("ratios to the first: " + ", ".join(f"{r / rates[0]:.2f}" for r in rates))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
