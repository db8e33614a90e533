"""Benchmark: steps/s of the reference engine (a benchmark, not a test).

    python bench/reference_engine.py [--counters 1000] [--steps 200]

Prints steps/s on the waves example and on a network of N counters (N accum
neurons, each adding a shared constant 1 to itself).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from dmm_studio import Network, load_network
from dmm_studio.network import self_accum_row
from dmm_studio.vvalue import add

ROOT = Path(__file__).resolve().parent.parent


def counters(n: int) -> Network:
    rows = {
        f"c{k}": {
            "accum": {"accum": {f"c{k}": {"single": 1}}},
            "delta": {"identity": {"one": {"single": 1}}},
        }
        for k in range(n)
    }
    w = add(
        self_accum_row(),
        {"accum": rows, "identity": {"one": {"single": {"identity": {"one": {"single": 1}}}}}},
    )
    return Network(outputs={"self": {"self": {"network_matrix": w}}, "identity": {"one": {"single": 1}}})


def rate(net: Network, steps: int, engine: str) -> float:
    m = net.machine(engine=engine)
    m.step()  # warm up
    start = time.perf_counter()
    m.step(steps)
    return steps / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counters", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--engine", default="reference")
    a = ap.parse_args()
    waves = rate(load_network(ROOT / "examples" / "waves.dmm.json"), a.steps * 20, a.engine)
    many = counters(a.counters)
    m = many.machine(engine=a.engine)
    m.step(3)
    assert m.output("accum", f"c{a.counters - 1}", "single") == {":number": 3}
    big = rate(many, a.steps, a.engine)
    print(f"{a.engine} engine: waves {waves:,.0f} steps/s; {a.counters} counters {big:,.1f} steps/s")


if __name__ == "__main__":
    main()
