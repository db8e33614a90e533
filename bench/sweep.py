"""Sweeps: 64 runs of an example one by one in this process vs as Ray tasks
on this machine's cores, side by side in one run, and Ray's fixed start-up cost.

    python bench/sweep.py [--runs 64] [--steps 150] [--num-cpus N]

The sweep is examples/field_population.sweep.json's strength x wavelength
grid made 8 x 8 (64 points). Ray's start-up is measured apart: ``ray.init()``
(the local cluster's processes), then a first run on every worker (each
worker process imports dmm_studio and discovers the neuron packs once, as
this process does in an untimed first sweep). The ratio compares the
sweep's own time on a started Ray with the same runs in this process; the
end-to-end ratio adds the start-up. Needs Ray (pip install 'dmm-studio[distributed]').
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dmm_studio.sweep import Sweep, read_rows, run_point, spec_from_json  # noqa: E402
from dmm_studio.sweep.run import make_task  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=64, help="a square number: the grid's points")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--num-cpus", type=int, default=None, help="Ray's CPUs (default: all of this machine's)")
    args = ap.parse_args()
    try:
        import ray
    except ImportError:
        print("bench/sweep.py needs Ray: pip install 'dmm-studio[distributed]'")
        return 1
    side = round(args.runs**0.5)
    data = json.loads((ROOT / "examples" / "field_population.sweep.json").read_text())
    data["steps"] = args.steps
    data["axes"][0] = {
        "name": "strength",
        "path": "fields/ripple/strength",
        "range": {"min": 0, "max": 0.1, "num": side},
    }
    data["axes"][1]["range"]["num"] = side
    spec = spec_from_json(data, "bench", ROOT / "examples")
    n = len(spec.points())
    cpus = args.num_cpus or os.cpu_count()
    print(
        f"{n} runs of examples/field_population.dmm.json, {args.steps} steps each; {os.cpu_count()} cores; "
        f"load before: {os.getloadavg()[0]:.2f}"
    )

    with tempfile.TemporaryDirectory() as d:
        Sweep(spec, Path(d) / "warm").run(use_ray=False)  # this process's imports, outside the timing
        t = time.perf_counter()
        Sweep(spec, Path(d) / "serial").run(use_ray=False)
        serial = time.perf_counter() - t

        t = time.perf_counter()
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        init = time.perf_counter() - t
        t = time.perf_counter()
        # each worker's first run pays the imports and the neuron packs' discovery, as the
        # first run in this process did (the "warm" sweep above): one real run per worker slot
        remote = ray.remote(run_point)
        ray.get([remote.remote(make_task(spec, 0, spec.points()[0], None)) for _ in range(cpus)])
        workers = time.perf_counter() - t
        t = time.perf_counter()
        Sweep(spec, Path(d) / "ray").run(use_ray=True)
        on_ray = time.perf_counter() - t
        t = time.perf_counter()
        ray.shutdown()
        down = time.perf_counter() - t
        own = {k: [r["wall_s"] for r in read_rows(Path(d) / k / "runs.csv")] for k in ("serial", "ray")}

    fixed = init + workers + down
    print(f"one by one in this process: {serial:7.2f} s  ({serial / n * 1000:.0f} ms a run)")
    print(f"Ray tasks, {cpus} CPUs:        {on_ray:7.2f} s  ({on_ray / n * 1000:.0f} ms a run)")
    print(f"ratio (this process / Ray):  {serial / on_ray:7.2f}x  on a started Ray")
    print(
        f"Ray's fixed start-up cost:   {fixed:7.2f} s  (ray.init {init:.2f} s, workers' first task "
        f"{workers:.2f} s, shutdown {down:.2f} s)"
    )
    print(f"end to end (with start-up):  {serial / (on_ray + fixed):7.2f}x")
    mean = {k: sum(v) / len(v) * 1000 for k, v in own.items()}
    print(
        f"a run's own time (its row's wall_s), mean: {mean['serial']:.0f} ms in this process, "
        f"{mean['ray']:.0f} ms in a Ray worker beside {cpus - 1} other(s)"
    )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
