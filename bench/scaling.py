"""How the compiled engine scales: ratios to a hand-written torch loop, in one run.

    python bench/scaling.py [--max 1e6] [--threads 1] [--device cpu|cuda|auto] [--steps 30]

For k weights from 1e2 up to ``--max`` (x10 each), two networks:

* **counters**: k/2 accumulators, each adding a constant 1 to itself;
* **random**: k/10 identity neurons, each reading 10 random others.

Each is stepped by the engine the CLI and the studio use (``make_engine("compiled")``),
beside a hand-written torch loop doing the same work (one CSR matvec, then
the elementwise accumulate of the counters), and beside the reference
engine while it takes under ``--ref-limit`` seconds a step. Printed per size:

* ``fixed``: ms per step with W fixed, and compiled / hand-written (target <= 2);
* ``first``: building the engine (from the dicts) and its first step, seconds;
* ``delta``: a 10-entry delta whose entries appear and vanish every step,
  over the fixed-W step (target <= 1.5);
* ``neuron``: one neuron appearing and vanishing every step, over the fixed-W
  step (target <= 2);
* ``1.0/1``: Self's accum weight written 1.0 instead of 1, over 1 (target 1).
* ``ref``: reference / compiled, where the reference finishes.

``--load`` also writes the counters network to a file per size and times
loading it (``load_network``) and building the engine from it, with the
peak memory of a process that does just that.

Measured 2026-11-29 (2-core CPU machine shared with other jobs, load
average 2.9 at the start, 4.9 at the end; torch 2.13 CPU, 1 thread;
``--max 1e6 --steps 20``):

    network          k  ms/step  by hand  ratio  build s  first ms  delta  neuron  1.0/1  ref/cmp
    counters       100    0.026    0.015   1.81     0.02       1.8   2.87    3.26   0.97      63x
    random         100    0.015    0.005   2.87     0.00       0.2   4.22    6.03             25x
    counters    10,000    0.056    0.038   1.45     0.03       1.0   2.65    3.78   1.02   5,335x
    random      10,000    0.026    0.010   2.60     0.03       0.5   5.76    9.26          1,442x
    counters   100,000    0.393    0.319   1.23     0.40       6.6   1.81    3.26   0.98
    random     100,000    0.138    0.088   1.57     0.19       1.5   2.11    3.40
    counters 1,000,000    4.107    3.862   1.06     6.06     117.2   1.91    3.17   1.06
    random   1,000,000    2.811    2.575   1.09     5.83      25.7   1.14    1.96

Loading the file of 1,000,000 counters (2,000,000 weights, 250 MB) and
building the engine from it, in a fresh process: load 45 s, build 15 s,
first step 0.43 s, then 20 ms a step; peak memory 4.5 GB, all of it the
loaded dicts (the build adds nothing to the peak).

After the compiled engine was cut under 1,000 lines (one CSR path at every
size: no dense product for the tiniest), ``--max 1e5 --steps 20``, load
average 3.3-3.4, this revision then the one before, one run after the other:

    network          k  ratio  delta  neuron  (before: ratio  delta  neuron)
    counters       100   1.93   2.51    2.89            1.79   2.99    2.90
    random         100   3.57   4.08    6.05            2.75   4.50    5.63
    counters    10,000   1.47   2.15    2.50            1.51   2.96    3.96
    random      10,000   2.30   3.73    5.33            2.63   4.05    5.71
    counters   100,000   1.17   1.30    1.83            1.22   1.69    4.46
    random     100,000   1.32   1.69    3.53            1.42   2.34    3.35

The fixed cost at k = 100 is 0.027 ms (0.028 before); below 1e4 weights the
delta and neuron ratios are of a step of a few tens of microseconds.

2026-12-08 (issue 12's missed targets; 2-core machine shared by 7 jobs,
load average 2.9-3.8, so ``--clock cpu``: each side's own CPU time, the
time other processes hold the core left out). ``python bench/scaling.py
--max 1e5 --threads 1 --steps 20 --ref-limit-k 0 --clock cpu``, the
revision before this work (0c80c37) and this one, run before/after/after/before:

    network          k  ratio before   after   delta before  after   neuron before  after
    random      10,000   2.41  2.33   1.77 1.96   3.49 3.39  2.27 2.30   5.48 4.67  2.65 2.61
    random     100,000   1.31  1.38   1.19 1.18   2.09 2.00  1.53 1.54   2.74 3.10  1.80 1.87
    counters   100,000   1.18  1.18   1.03 1.01   1.43 1.28  0.90 1.24   1.96 1.76  1.48 1.25

(wall clock, load ~4, the same order: random 1e4 ratio 4.15/2.40 ->
1.89/2.02; 1e5 delta 1.94/2.15 -> 1.54/2.23, neuron 2.85/5.08 -> 1.76/2.53.)
What changed: a neuron that vanishes stays a dormant member of its type's
plan and wakes in O(1) (no rebuild of the type's index arrays); Self's
edits are applied key by key (the nested W follows when it is read); a few
calls less in every step. ``--max 1e6 --load --only none`` (load average
~2), the file of 500,000 counters (1,000,000 weights, 125 MB): before, load
16.8 s, build 7.9 s, peak 2.2 GB; after, load 7.4 s, build 6.6 s (~1 s of
it importing torch), peak 1.5 GB, first step 0.11 s. The file of 1,000,000
counters (2,000,000 weights, 250 MB), the same steps in a fresh process
(load average 3.3-5): before, load 100 s (34 s CPU), build 45 s (17 s CPU),
peak 4.3 GB; after, load 27 s (15 s CPU), build 17 s (11 s CPU), peak 2.7
GB, first step 0.37 s. The loader keeps a canonical regular W as parsed (one
checking walk, no copies); what remains is orjson's parse (~1.4 GB of dicts
for W alone at 2M weights), the duplicate-key count over the parsed data
(``jsonio``), and the engine's interning of 3M ports in Python (~1 GB of
dicts and lists): issue 12's 5 s and 1 GB need W read into arrays without
nested dicts, which this revision does not do.

A benchmark, not a test: it prints figures and asserts nothing. Quote the
load average (printed) with the figures: the ratios are measured side by
side, in alternating rounds, so load falls on both sides alike.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import CLOCK, side_by_side  # noqa: E402

from dmm_studio.engine import make_engine  # noqa: E402
from dmm_studio.engine.auto import resolve_device  # noqa: E402
from dmm_studio.engine.reference import ReferenceEngine  # noqa: E402

SELF = {"self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}}}


def counters(k: int, self_weight: float = 1) -> dict[str, Any]:
    """k/2 counters: ``c_j.accum <- c_j`` and ``c_j.delta <- one`` (k weights in all)."""
    n = max(1, k // 2)
    w: dict[str, Any] = {"self": {"self": {"accum": {"self": {"self": {"network_matrix": self_weight}}}}}}
    w["identity"] = {"one": {"single": {"identity": {"one": {"single": 1}}}}}
    w["accum"] = {
        f"c{j}": {"accum": {"accum": {f"c{j}": {"single": 1}}}, "delta": {"identity": {"one": {"single": 1}}}}
        for j in range(n)
    }
    return {"identity": {"one": {"single": {":number": 1}}}, "self": {"self": {"network_matrix": w}}}


def random_net(k: int, fan_in: int = 10, seed: int = 0) -> dict[str, Any]:
    n = max(fan_in + 1, k // fan_in)
    rng = random.Random(seed)
    scale = 0.9 / fan_in**0.5 / 0.58
    rows = {
        f"n{r}": {
            "single": {
                "identity": {
                    f"n{c}": {"single": rng.uniform(-1, 1) * scale} for c in rng.sample(range(n), fan_in)
                }
            }
        }
        for r in range(n)
    }
    w = {**SELF, "identity": rows}
    y = {"identity": {f"n{j}": {"single": {":number": rng.uniform(-1, 1)}} for j in range(n)}}
    return {**y, "self": {"self": {"network_matrix": w}}}


def with_flip(y0: dict[str, Any], frag: dict[str, Any], wired: bool) -> dict[str, Any]:
    """y0 plus a constant neuron whose output alternates ``frag`` and ``-frag``
    (wired into Self's delta when ``wired``: W is W_0, W_0 + frag, W_0, ...)."""
    w = dict(y0["self"]["self"]["network_matrix"])
    w["identity"] = {**w["identity"], "flip": {"single": {"identity": {"flip": {"single": -1}}}}}
    if wired:
        w["self"] = {"self": {**SELF["self"]["self"], "delta": {"identity": {"flip": {"single": 1}}}}}
    y = dict(y0)
    y["identity"] = {**y0["identity"], "flip": {"single": frag}}
    y["self"] = {"self": {"network_matrix": w}}
    return y


def new_entries(y0: dict[str, Any], size: int) -> dict[str, Any]:
    """``size`` entries that W_0 lacks (weight 1e-3): rows of W_0 reading an
    output of their own neuron that nothing emits (new entries, new columns)."""
    w = y0["self"]["self"]["network_matrix"]
    rows = [(f, n, i) for f, ns in w.items() if f != "self" for n, ins in ns.items() for i in ins]
    frag: dict[str, Any] = {}
    for j in range(size):
        f, n, i = rows[(j * 7919) % len(rows)]
        frag.setdefault(f, {}).setdefault(n, {}).setdefault(i, {}).setdefault(f, {}).setdefault(n, {})[
            f"x{j}"
        ] = 1e-3
    return frag


def one_neuron() -> dict[str, Any]:
    """A counter ``extra`` that reads itself and the constant (2 entries)."""
    return {
        "accum": {
            "extra": {
                "accum": {"accum": {"extra": {"single": 1}}},
                "delta": {"identity": {"one": {"single": 1}}},
            }
        }
    }


def hand_counters(k: int, device: torch.device) -> Any:
    """The counters by hand: one CSR matvec, the accumulate, the constant."""
    n = max(1, k // 2)
    # rows: 2j accum, 2j+1 delta of counter j, 2n the constant's; cols: j counter j, n the constant
    rows = torch.arange(2 * n + 1)
    cols = torch.cat([torch.stack([torch.arange(n), torch.full((n,), n)], 1).flatten(), torch.tensor([n])])
    a = torch.sparse_coo_tensor(
        torch.stack([rows, cols]), torch.ones(2 * n + 1, dtype=torch.float64), (2 * n + 1, n + 1)
    )
    a = a.coalesce().to_sparse_csr().to(device)
    y = torch.zeros(n + 1, dtype=torch.float64, device=device)
    y[n] = 1

    def step() -> None:
        nonlocal y
        x = a @ y
        new = torch.empty_like(y)
        new[:n] = x[0 : 2 * n : 2] + x[1 : 2 * n : 2]
        new[n] = x[2 * n]
        y = new

    return step


def hand_random(y0: dict[str, Any], device: torch.device) -> Any:
    names = {n: j for j, n in enumerate(y0["identity"])}
    ij: list[tuple[int, int]] = []
    vals: list[float] = []
    for n, row in y0["self"]["self"]["network_matrix"]["identity"].items():
        for m, o in row["single"]["identity"].items():
            ij.append((names[n], names[m]))
            vals.append(o["single"])
    size = len(names)
    a = torch.sparse_coo_tensor(torch.tensor(ij).T, torch.tensor(vals, dtype=torch.float64), (size, size))
    a = a.coalesce().to_sparse_csr().to(device)
    y = torch.rand(size, dtype=torch.float64, device=device)

    def step() -> None:
        nonlocal y
        y = a @ y

    return step


def engine(y: dict[str, Any], device: torch.device) -> Any:
    return make_engine("compiled", y, device=str(device))


def row(
    name: str, k: int, y0: dict[str, Any], hand: Any, args: argparse.Namespace, device: torch.device
) -> None:
    t0 = time.perf_counter()
    eng = engine(y0, device)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    eng.step()
    first = time.perf_counter() - t0
    steps = max(3, min(args.steps * 10, int(2e6 / k)))
    t_fix, t_hand = side_by_side([eng.step, hand], steps, device)
    flips = with_flip(y0, new_entries(y0, 10), True), with_flip(y0, new_entries(y0, 10), False)
    nrn = with_flip(y0, one_neuron(), True), with_flip(y0, one_neuron(), False)
    engines = [engine(y, device) for y in (*flips, *nrn)]
    t_d, t_df, t_n, t_nf = side_by_side([e.step for e in engines], steps, device)
    hook = counters(k, 1.0) if name == "counters" else None
    ratio_hook = ""
    if hook is not None:
        e1, e2 = engine(counters(k, 1), device), engine(hook, device)
        a, b = side_by_side([e1.step, e2.step], steps, device)
        ratio_hook = f"{b / a:6.2f}"
    ref = ""
    if k <= args.ref_limit_k:
        r = ReferenceEngine(y0)
        t_ref = side_by_side([r.step], 1, device, warmup=1, rounds=2)[0]
        ref = f"{t_ref / t_fix:9,.0f}x"
    print(
        f"{name:9} {k:>9,} {t_fix * 1e3:9.3f} {t_hand * 1e3:9.3f} {t_fix / t_hand:6.2f} "
        f"{built:7.2f} {first * 1e3:8.1f} {t_d / t_df:6.2f} {t_n / t_nf:6.2f} {ratio_hook:>6} {ref:>10}",
        flush=True,
    )


def load_row(k: int, device: torch.device) -> None:
    """Write the counters file, then load and build in a fresh process."""
    from dmm_studio.fileformat import dumps_network
    from dmm_studio.network import Network

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counters.dmm.json"
        path.write_text(dumps_network(Network(outputs=counters(k))))
        code = (
            "import sys,time,resource,json;from time import perf_counter as w, process_time as c;"
            "from dmm_studio.fileformat import load_network;from dmm_studio.engine import make_engine;"
            "t1,c1=w(),c();net=load_network(sys.argv[1]);t2,c2=w(),c();"
            "e=make_engine('compiled',net.outputs,device=sys.argv[2]);t3,c3=w(),c();e.step();t4=w();"
            # VmHWM: this process's own peak (ru_maxrss keeps the parent's across fork and exec)
            "hwm=[int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')];"
            "rss=hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
            "print(json.dumps([t2-t1,t3-t2,t4-t3,rss,c2-c1,c3-c2]))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(path), str(device)], capture_output=True, text=True
        )
        if out.returncode:
            print(f"load {k:,}: failed: {out.stderr.strip().splitlines()[-1:]}")
            return
        load, build, first, rss, load_cpu, build_cpu = json.loads(out.stdout.strip().splitlines()[-1])
        size = path.stat().st_size / 1e6
        print(
            f"load+compile counters {k:>9,} weights ({size:.0f} MB file): load {load:.2f} s "
            f"({load_cpu:.2f} s CPU), build {build:.2f} s ({build_cpu:.2f} s CPU), first step {first:.3f} s, "
            f"peak memory {rss / 1024:.0f} MB",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max", type=float, default=1e5, help="largest k (weights), default 1e5")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--steps", type=int, default=30, help="a round: 10x this, at most 2e6/k steps")
    ap.add_argument("--ref-limit-k", type=float, default=1e4, help="run the reference up to this k")
    ap.add_argument("--load", action="store_true", help="also time loading a counters file per size")
    ap.add_argument("--only", default="counters,random")
    ap.add_argument(
        "--clock", default="wall", choices=["wall", "cpu"], help="cpu: the thread's CPU time (1 thread, cpu)"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if args.clock == "cpu":
        if args.threads != 1 or device.type != "cpu":
            ap.error("--clock cpu measures one thread on the CPU: use --threads 1 --device cpu")
        CLOCK[0] = time.thread_time
    print(
        f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"{args.clock} clock, load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'network':9} {'k':>9} {'ms/step':>9} {'by hand':>9} {'ratio':>6} {'build s':>7} {'first ms':>8} "
        f"{'delta':>6} {'neuron':>6} {'1.0/1':>6} {'ref/cmp':>10}"
    )
    sizes = [10**e for e in range(2, 7) if 10**e <= args.max]
    for k in sizes:
        if "counters" in args.only:
            row("counters", k, counters(k), hand_counters(k, device), args, device)
        if "random" in args.only:
            y0 = random_net(k)
            row("random", k, y0, hand_random(y0, device), args, device)
    if args.load:
        for k in sizes:
            load_row(k, device)
    print(
        f"load average at the end {os.getloadavg()[0]:.2f}; peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
