"""Benchmark of the compiled engine, each figure a ratio measured side by side.

    python bench/engine.py [--device auto|cpu|cuda] [--quick]

(a) 100k scalar neurons, 1M weights, W fixed: compiled steps/s over a bare
    torch CSR matvec loop on the same matrix (target >= 0.5).
(b) 10k neurons (100k weights): compiled over reference (target >= 100x).
(c) the network of (a) with a 10-entry delta reaching Self every step (value
    edits; and entries that appear and vanish every step): cost per step over
    the same network with W fixed (target <= 1.5).
(d) 64 neurons carrying 256x256 images: compiled over the same torch ops
    written by hand (target >= 0.5).

A benchmark, not a test: it prints figures, it asserts nothing.

Measured 2026-11-25 on the project's 2-core CPU machine (torch 2.13 CPU,
shared with other jobs; rounds alternate so that load falls on both sides):

    threads  (a) ratio          (b)      (c) value / structural  (d) ratio
    2        0.64 (1.28/0.82 ms) 3,295x  1.26 / 1.35             0.98 (4.23/4.14 ms)
    1        0.76 (2.34/1.79 ms) 2,704x  1.16 / 1.23             0.90 (6.92/6.20 ms)

Re-measured 2026-11-25 after the fixed-cost work and the size-based dispatch
(1 thread; small networks are not in this benchmark: see bench/examples.py):
(a) 0.67-0.83, (b) 4,562x, (c) 1.23 / 1.31, (d) 0.94; the previous revision in
the same session: (a) 0.75-0.92, (b) 4,109x, (c) 1.22 / 1.19, (d) 0.90 (the
spread of (a) is the shared machine's). ``--quick`` sizes do not meet (a),
(c), (d), before or after: at 10k neurons and 16 small images the fixed cost
of a step (~0.2-0.4 ms) is most of it.

Re-measured 2026-11-29 after the rewrite of the compiled engine (AutoEngine
over a float64 CompiledEngine, issue 10/12; 1 thread, load average ~2.9):
(a) 0.96 (1.31/1.26 ms), compile 3.5 s; (b) 4,910x; (c) 1.47 / 1.28;
(d) 1.06. The revision before, the same day (load ~2.4-4): (a) 0.62
(2.09/1.29 ms), compile 30.9 s; (b) 3,019x; (c) 1.50 / 1.09; (d) 0.94.

Re-measured 2026-11-29 after the compiled engine was cut under 1,000 lines
(one CSR path at every size; 1 thread, load average 3.0-3.3): (a) 0.95
(1.36/1.29 ms), compile 5.3 s; (b) 5,319x; (c) 1.18 / 1.16; (d) 1.06.

With 2 threads and another process busy on one core, every parallel torch
op waits for the preempted thread: then (c) has measured up to 7x. Use
``--threads 1`` on a shared machine.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dmm_studio.engine._sparse import quiet_csr  # noqa: E402
from dmm_studio.engine.auto import AutoEngine as CompiledEngine  # noqa: E402  (what "compiled" runs)
from dmm_studio.engine.auto import resolve_device  # noqa: E402
from dmm_studio.engine.reference import ReferenceEngine  # noqa: E402

SELF_ROW = {"accum": {"self": {"self": {"network_matrix": 1}}}}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def per_step(run: Callable[[], None], steps: int, device: torch.device, warmup: int = 3) -> float:
    """Seconds per call of ``run`` (after a warm-up), best of 3 rounds."""
    return side_by_side([run], steps, device, warmup)[0]


CLOCK = [time.perf_counter]  # bench/scaling.py --clock cpu: time.thread_time


def side_by_side(
    runs: list[Callable[[], None]], steps: int, device: torch.device, warmup: int = 3, rounds: int = 5
) -> list[float]:
    """Seconds per call of each of ``runs``, measured in alternating rounds
    (so that the load of a shared machine falls on all of them alike); the
    best round of each. ``CLOCK[0]``: wall time, or the thread's CPU time
    (one torch thread on the CPU: then the time other processes hold the
    core is left out)."""
    for run in runs:
        for _ in range(warmup):
            run()
    sync(device)
    best = [float("inf")] * len(runs)
    for _ in range(rounds):
        for k, run in enumerate(runs):
            t0 = CLOCK[0]()
            for _ in range(steps):
                run()
            sync(device)
            best[k] = min(best[k], (CLOCK[0]() - t0) / steps)
    return best


def scalar_network(n: int, fan_in: int, seed: int = 0) -> tuple[dict[str, Any], list[tuple[int, int, float]]]:
    """n identity neurons, each reading fan_in random others: (y_0, entries)."""
    rng = random.Random(seed)
    scale = 0.9 / fan_in**0.5 / 0.58
    entries = []
    rows: dict[str, Any] = {}
    for r in range(n):
        srcs = {}
        for c in rng.sample(range(n), fan_in):
            w = rng.uniform(-1, 1) * scale
            srcs[f"n{c}"] = {"single": w}
            entries.append((r, c, w))
        rows[f"n{r}"] = {"single": {"identity": srcs}}
    w_0: dict[str, Any] = {"self": {"self": dict(SELF_ROW)}, "identity": rows}
    y0 = {
        "identity": {f"n{k}": {"single": {":number": rng.uniform(-1, 1)}} for k in range(n)},
        "self": {"self": {"network_matrix": w_0}},
    }
    return y0, entries


def with_delta(
    y0: dict[str, Any], entries: list[tuple[int, int, float]], size: int, flip: bool
) -> dict[str, Any]:
    """y0 plus a constant neuron holding a ``size``-entry fragment of W, wired
    into Self's delta. ``flip``: the neuron's output alternates F, -F, so the
    entries (new ones) appear and vanish every step; else the fragment nudges
    existing weights (value-only edits)."""
    w_0 = y0["self"]["self"]["network_matrix"]
    frag: dict[str, Any] = {}
    for k in range(size):
        r, c, _ = entries[k * 997 % len(entries)]
        c = c if not flip else (c + 1 + k) % len(y0["identity"])  # (mostly) a new entry
        frag.setdefault(f"n{r}", {"single": {"identity": {}}})["single"]["identity"][f"n{c}"] = {
            "single": 1e-3
        }
    y = dict(y0)
    y["identity"] = dict(y0["identity"])
    y["identity"]["frag"] = {"single": {"identity": frag}}
    w = dict(w_0)
    w["identity"] = dict(w_0["identity"])
    w["identity"]["frag"] = {"single": {"identity": {"frag": {"single": -1 if flip else 1}}}}
    w["self"] = {"self": {**SELF_ROW, "delta": {"identity": {"frag": {"single": 1}}}}}
    y["self"] = {"self": {"network_matrix": w}}
    return y


def fixed_twin(y: dict[str, Any]) -> dict[str, Any]:
    """The same network (the fragment neuron too) with nothing reaching Self's delta."""
    w = dict(y["self"]["self"]["network_matrix"])
    w["self"] = {"self": dict(SELF_ROW)}
    out = dict(y)
    out["self"] = {"self": {"network_matrix": w}}
    return out


def csr_of(entries: list[tuple[int, int, float]], n: int, device: torch.device, dtype: torch.dtype) -> Any:
    idx = torch.tensor([(r, c) for r, c, _ in entries], dtype=torch.long).T
    vals = torch.tensor([w for _, _, w in entries], dtype=dtype)
    coo = torch.sparse_coo_tensor(idx, vals, (n, n), check_invariants=False).coalesce()
    return quiet_csr(coo.to_sparse_csr).to(device)


def bench_a(n: int, fan_in: int, device: torch.device, steps: int) -> tuple[float, dict[str, Any], Any]:
    y0, entries = scalar_network(n, fan_in)
    t0 = time.perf_counter()
    eng = CompiledEngine(y0, device=str(device))
    compile_s = time.perf_counter() - t0
    a = csr_of(entries, n, device, torch.float64)
    y = torch.rand(n, dtype=torch.float64, device=device)

    def bare() -> None:
        nonlocal y
        y = a @ y

    t_cmp, t_bare = side_by_side([eng.step, bare], steps, device)
    print(
        f"(a) {n:,} scalar neurons, {len(entries):,} weights, W fixed: compiled {1 / t_cmp:,.0f} steps/s "
        f"({t_cmp * 1e3:.2f} ms), bare CSR matvec loop {1 / t_bare:,.0f} steps/s ({t_bare * 1e3:.2f} ms): "
        f"ratio {t_bare / t_cmp:.2f} (target >= 0.5); compile {compile_s:.1f} s"
    )
    return t_cmp, y0, entries


def bench_b(n: int, fan_in: int, device: torch.device) -> None:
    y0, entries = scalar_network(n, fan_in, seed=1)
    ref = ReferenceEngine(y0)
    cmp = CompiledEngine(y0, device=str(device))
    t_ref = side_by_side([ref.step], 2, device, warmup=1, rounds=2)[0]
    t_cmp = per_step(cmp.step, 50, device)
    print(
        f"(b) {n:,} neurons, {len(entries):,} weights: compiled {t_cmp * 1e3:.3f} ms/step, reference "
        f"{t_ref * 1e3:.0f} ms/step: ratio {t_ref / t_cmp:,.0f}x (target >= 100x)"
    )


def bench_c(
    y0: dict[str, Any], entries: list[tuple[int, int, float]], device: torch.device, steps: int
) -> None:
    for flip, what in ((False, "value edits"), (True, "entries appear and vanish")):
        y = with_delta(y0, entries, 10, flip)
        mod = CompiledEngine(y, device=str(device))
        fixed = CompiledEngine(fixed_twin(y), device=str(device))
        t_mod, t_fixed = side_by_side([mod.step, fixed.step], steps, device)
        assert mod.inner is not None and not mod.inner.problem, mod.why
        print(
            f"(c) 10-entry delta every step ({what}): {t_mod * 1e3:.2f} ms/step vs W fixed "
            f"{t_fixed * 1e3:.2f} ms/step: cost ratio {t_mod / t_fixed:.2f} (target <= 1.5)"
        )


def bench_d(n: int, side: int, fan_in: int, device: torch.device, steps: int) -> None:
    rng = random.Random(2)
    entries = []
    rows: dict[str, Any] = {}
    for r in range(n):
        srcs = {}
        for c in rng.sample(range(n), fan_in):
            srcs[f"i{c}"] = {"single": 1 / fan_in}
            entries.append((r, c, 1 / fan_in))
        rows[f"i{r}"] = {"single": {"identity": srcs}}
    images = torch.rand((n, side, side), dtype=torch.float32)
    y0 = {
        "identity": {f"i{k}": {"single": {":tensor": images[k]}} for k in range(n)},
        "self": {"self": {"network_matrix": {"self": {"self": dict(SELF_ROW)}, "identity": rows}}},
    }
    eng = CompiledEngine(y0, device=str(device))
    a = csr_of(entries, n, device, torch.float32)
    y = images.to(device).reshape(n, -1)

    def by_hand() -> None:
        nonlocal y
        y = a @ y

    t_cmp, t_hand = side_by_side([eng.step, by_hand], steps, device)
    print(
        f"(d) {n} neurons with {side}x{side} images ({len(entries)} weights): compiled {t_cmp * 1e3:.2f} ms/step, "
        f"by hand {t_hand * 1e3:.2f} ms/step: ratio {t_hand / t_cmp:.2f} (target >= 0.5)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--only", default="abcd", help="which benchmarks (letters)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    n_a, n_b, steps = (10_000, 2_000, 30) if args.quick else (100_000, 10_000, 100)
    y0 = entries = None
    if "a" in args.only or "c" in args.only:
        _, y0, entries = bench_a(n_a, 10, device, steps)
    if "b" in args.only:
        bench_b(n_b, 10, device)
    if "c" in args.only:
        assert y0 is not None and entries is not None
        bench_c(y0, entries, device, steps)
    if "d" in args.only:
        bench_d(16 if args.quick else 64, 64 if args.quick else 256, 4, device, 10 if args.quick else 30)


if __name__ == "__main__":
    main()
