"""Steps/s of every example on the reference and the compiled engine, side by side.

    python bench/examples.py [--threads 1] [--seconds 0.3] [--baseline REV] [--only NAME]

For each ``examples/*.dmm.json``: the reference engine, the compiled engine
as the CLI runs it (default settings, size-based dispatch included), and the
compiled engine forced onto its compiled path (``threshold=0``). With
``--baseline REV`` (a git revision, e.g. ``HEAD~3``), the compiled engine of
that revision is measured too, in the same rounds (its ``compiled.py``,
``_batched.py`` and ``_sparse.py`` are loaded from git under other module
names; ``base.py`` and ``reference.py`` are today's). Every engine runs the
same steps 1..N from a fresh engine each round (N: about ``--seconds`` of the
reference; some states grow as they run), rounds alternate the engines so
that the load of a shared machine falls on all alike; each figure is the
best round. A benchmark, not a test: it prints a table, asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import inspect
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dmm_studio.engine.auto import AutoEngine as CompiledEngine  # noqa: E402
from dmm_studio.engine.base import NetworkHalted  # noqa: E402
from dmm_studio.engine.reference import ReferenceEngine  # noqa: E402
from dmm_studio.fileformat import load_network  # noqa: E402


def baseline_engine(rev: str) -> type:
    """The CompiledEngine class of git revision ``rev``."""
    mods = {}
    for name in ("_sparse", "_batched", "compiled"):
        src = subprocess.run(
            ["git", "show", f"{rev}:dmm_studio/engine/{name}.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        src = src.replace("from ._batched import", "from ._bl_batched import")
        src = src.replace("from ._sparse import", "from ._bl_sparse import")
        full = f"dmm_studio.engine._bl{name if name.startswith('_') else '_' + name}"
        spec = importlib.util.spec_from_loader(full, loader=None)
        assert spec is not None
        mod = importlib.util.module_from_spec(spec)
        mod.__package__ = "dmm_studio.engine"
        sys.modules[full] = mod
        exec(compile(src, f"{rev}:{name}.py", "exec"), mod.__dict__)
        mods[name] = mod
    return mods["compiled"].CompiledEngine  # type: ignore[no-any-return]


def timed(make: Callable[[], Any], steps: int) -> float:
    """Seconds for ``steps`` steps of a fresh engine (restarted, untimed, when
    the network halts)."""
    eng = make()
    spent = 0.0
    done = 0
    while done < steps:
        t0 = time.perf_counter()
        try:
            while done < steps:
                eng.step()
                done += 1
        except NetworkHalted:
            pass
        spent += time.perf_counter() - t0
        if done < steps:
            eng = make()
    return spent


def rates(makes: list[Callable[[], Any]], seconds: float, rounds: int) -> list[float]:
    """Steps/s of each engine over the same steps 1..N (N: about ``seconds``
    of the first engine), best of ``rounds`` alternating rounds. Every round
    starts each engine afresh: networks whose state grows (word counts) cost
    more per step later, so all engines must cover the same steps."""
    for make in makes:
        timed(make, 3)  # warm-up (imports, caches)
    n = 8
    while timed(makes[0], n) < seconds / 2 and n < 1 << 20:
        n *= 2
    best = [0.0] * len(makes)
    for _ in range(rounds):
        for k, make in enumerate(makes):
            best[k] = max(best[k], n / timed(make, n))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--seconds", type=float, default=0.3, help="length of one round per engine")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--baseline", default=None, help="also the compiled engine of this git revision")
    ap.add_argument("--only", default=None, help="examples whose file name contains this")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    engines: list[tuple[str, Callable[..., Any]]] = [("reference", ReferenceEngine)]
    if args.baseline:
        old = baseline_engine(args.baseline)
        engines.append((f"compiled@{args.baseline}", lambda y, **kw: old(y, device="cpu", **kw)))
    engines.append(("compiled", lambda y, **kw: CompiledEngine(y, device="cpu", **kw)))
    if "threshold" in inspect.signature(CompiledEngine.__init__).parameters:
        engines.append(("compiled thr=0", lambda y, **kw: CompiledEngine(y, device="cpu", threshold=0, **kw)))
    names = [n for n, _ in engines]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); steps/s, best of {args.rounds}")
    head = (
        f"{'example':<20}"
        + "".join(f"{n:>18}" for n in names)
        + "".join(f"{n + '/ref':>22}" for n in names[1:])
    )
    print(head)
    for path in sorted((ROOT / "examples").glob("*.dmm.json")):
        if args.only and args.only not in path.name:
            continue
        net = load_network(path)
        kw = {"params": net.params, "fields": net.fields, "layout": net.layout}
        makes = [functools.partial(cls, net.outputs, **kw) for _, cls in engines]
        r = rates(makes, args.seconds, args.rounds)
        name = path.name.removesuffix(".dmm.json")
        print(
            f"{name:<20}" + "".join(f"{x:>18,.0f}" for x in r) + "".join(f"{x / r[0]:>22.2f}" for x in r[1:]),
            flush=True,
        )


if __name__ == "__main__":
    main()
