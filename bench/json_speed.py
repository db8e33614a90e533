"""How fast a large network file parses and loads: the standard library's
json (plain, and with the duplicate-key hook the loader uses) beside orjson,
and the whole loader, side by side in one run, each in a fresh process so
its peak memory is its own.

The file is a dense network of ``--neurons`` identity neurons (every neuron
reads every other: neurons**2 weights; 2,074 gives 4.3M weights, ~100 MB,
the size issue 12 measured)::

    python bench/json_speed.py --neurons 2074

orjson is optional (``pip install orjson``); without it its rows are left out.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {
    "json.loads": "import json; json.loads(text)",
    "json.loads + duplicate-key hook": (
        "import json\n"
        "def hook(pairs):\n"
        "    d = dict(pairs)\n"
        "    if len(d) != len(pairs): raise ValueError('dup')\n"
        "    return d\n"
        "json.loads(text, object_pairs_hook=hook)"
    ),
    "orjson.loads": "import orjson; orjson.loads(text)",
    "parse_json, standard library only": (
        "from dmm_studio import jsonio\n"
        "jsonio._parse_fast = lambda t, d: jsonio._REFUSED\n"
        "jsonio.parse_json(text)"
    ),
    "parse_json (orjson + pair count: the loader's parse)": (
        "from dmm_studio.jsonio import parse_json; parse_json(text)"
    ),
    "load_network (parse + schema + V-values + Network)": (
        "from dmm_studio.fileformat import load_network; load_network(sys.argv[1])"
    ),
}

CHILD = """
import resource, sys, time
text = open(sys.argv[1], "rb").read()
t0 = time.perf_counter()
{code}
t1 = time.perf_counter()
print(t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def make_file(path: Path, neurons: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    names = [f"n{i}" for i in range(neurons)]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {')
        fh.write('"self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}}, "identity": {')
        for i, n in enumerate(names):
            row = ", ".join(f'"{m}": {{"single": {rng.uniform(-1, 1):.6f}}}' for m in names)
            fh.write(("," if i else "") + f'"{n}": {{"single": {{"identity": {{{row}}}}}}}')
        fh.write('}}}}, "identity": {')
        fh.write(", ".join(f'"{n}": {{"single": 1}}' for n in names))
        fh.write("}}}\n")
    return neurons * neurons


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--neurons", type=int, default=2074)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--before",
        type=Path,
        help="a folder holding an older dmm_studio/ (e.g. from git archive): its load_network is timed too",
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "big.dmm.json"
        weights = make_file(f, args.neurons)
        size = f.stat().st_size
        print(f"file: {weights:,} weights, {size / 2**20:.1f} MiB; load: {os.getloadavg()[0]:.2f}")
        base = None
        variants = [(name, code, None) for name, code in VARIANTS.items()]
        if args.before:
            variants.append(
                (
                    f"load_network of {args.before}",
                    "from dmm_studio.fileformat import load_network; load_network(sys.argv[1])",
                    str(args.before),
                )
            )
        times: dict[str, list[float]] = {}
        rss: dict[str, int] = {}
        for _ in range(args.rounds):  # rounds interleaved: a burst of load hits every variant alike
            for name, code, before in variants:
                if code.startswith("import orjson"):
                    try:
                        import orjson  # noqa: F401
                    except ImportError:
                        continue
                env = dict(os.environ, PYTHONPATH=before) if before else None
                out = subprocess.run(
                    [sys.executable, "-c", CHILD.format(code=code), str(f)],
                    capture_output=True,
                    text=True,
                    env=env,
                )
                if out.returncode:
                    print(f"{name[:60]:<60} failed: {out.stderr.strip().splitlines()[-1]}")
                    continue
                secs, rss_kib = out.stdout.split()
                times.setdefault(name, []).append(float(secs))
                rss[name] = max(rss.get(name, 0), int(rss_kib))
        for name, ts in times.items():
            s = min(ts)
            base = base or s
            print(f"{name[:60]:<60} {s:7.2f} s  x{s / base:5.2f}  peak RSS {rss[name] / 2**20:5.2f} GiB")
        print(f"(the best of {args.rounds} interleaved rounds; load at the end: {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    t = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - t:.0f} s in all)")
    sys.exit(code)
