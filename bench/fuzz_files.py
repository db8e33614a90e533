"""Fuzz the network-file loader with mutations of the examples' files.

Each mutated file is written to a temporary folder and read the way the CLI
reads it, in-process: ``load_network`` (exit 2 on NetworkFileError), then
``net.machine(engine="reference")`` (exit 2 on ValueError/RuntimeError), and
every accepted file is saved and loaded again (it must reload equal).

Mutations: byte flips, truncations, splices (a slice of one example put into
another), number blow-ups (huge integers, 1e999, NaN/Infinity literals,
int32/int64 limits, fractions), deep nesting, duplicate keys, and
replacements of the value at a random JSON path (every path of every
example can be drawn) by a random JSON value.

Prints the counts: clean refusals (one line naming the file), tracebacks,
accepted (and whether each saved and reloaded equal). The goal is 0
tracebacks::

    python bench/fuzz_files.py --files 10000 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

BLOWUPS = [
    "9" * 4301,
    "-" + "9" * 5000,
    str(2**1024),
    str(-(2**1100)),
    "1e999",
    "-1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    "2147483648",
    "9223372036854775808",
    "18446744073709551616",
    "1.5",
    "70000",
    "1e39",
    "-0.0",
    "0",
    "1e-400",
]
VALUES: list[Any] = [
    None,
    True,
    False,
    "",
    "x",
    "self/self",
    "a/b",
    [],
    {},
    0,
    -1,
    1.5,
    2**1024,
    2**63,
    [0, 0],
    [1],
    {":tensor": {"shape": [2], "dtype": "int32", "data": [1, 2147483648]}},
    {":tensor": {"shape": [0, 9223372036854775808], "data": []}},
    {":tensor": {"shape": [4294967296, 4294967296, 0], "data": []}},
    {":tensor": {"shape": [1], "dtype": "float16", "data": [70000]}},
    {":number": "1"},
    {":weird": 1},
    {"kind": "plane", "wavelength": -1},
    {"pos": [1e308, 1e308]},
]


def _paths(data: Any) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        out.append(path)
        if isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
    return out


def _deep(rng: random.Random) -> Any:
    n = rng.choice([50, 99, 101, 500, 1000, 5000, 20000])
    inner: Any = 1
    if rng.random() < 0.5:
        for _ in range(n):
            inner = [inner]
    else:
        for _ in range(n):
            inner = {"a": inner}
    return inner


def mutate(
    rng: random.Random, texts: list[str], datas: list[Any], paths: list[list[tuple[Any, ...]]]
) -> tuple[str, bytes]:
    """(mutation name, file bytes)."""
    i = rng.randrange(len(texts))
    text = texts[i]
    kind = rng.choice(["flip", "truncate", "splice", "number", "deep", "duplicate", "path", "path", "path"])
    if kind == "flip":
        b = bytearray(text.encode())
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(b))
            b[pos] = rng.choice([b[pos] ^ (1 << rng.randrange(8)), rng.randrange(256)])
        return kind, bytes(b)
    if kind == "truncate":
        return kind, text[: rng.randrange(len(text))].encode()
    if kind == "splice":
        other = texts[rng.randrange(len(texts))]
        a = rng.randrange(len(other))
        piece = other[a : a + rng.randint(1, 200)]
        pos = rng.randrange(len(text))
        cut = rng.randint(0, 50)
        return kind, (text[:pos] + piece + text[pos + cut :]).encode()
    if kind == "number":
        import re

        nums = [m.span() for m in re.finditer(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text)]
        if not nums:
            return kind, text.encode()
        a, b = rng.choice(nums)
        return kind, (text[:a] + rng.choice(BLOWUPS) + text[b:]).encode()
    if kind == "duplicate":
        import re

        keys = [m.span() for m in re.finditer(r'"[^"\\]*"\s*:', text)]
        a, b = rng.choice(keys)
        # repeat the key with a value of its own right after the opening brace before it
        brace = text.rfind("{", 0, a)
        if brace < 0:
            return kind, text.encode()
        return kind, (
            text[: brace + 1] + text[a:b] + " " + json.dumps(rng.choice(VALUES)) + "," + text[brace + 1 :]
        ).encode()
    data = json.loads(texts[i])
    path = rng.choice(paths[i])
    value = _deep(rng) if kind == "deep" else rng.choice(VALUES)
    if not path:
        data = value
    else:
        node = data
        for k in path[:-1]:
            node = node[k]
        last = path[-1]
        op = rng.random()
        if isinstance(node, dict) and op < 0.15:
            del node[last]
        elif isinstance(node, dict) and op < 0.25:
            node[str(last) + rng.choice(["x", "/", ":", ""])] = node.pop(last)
        else:
            node[last] = value
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 50_000))
    try:
        return kind, json.dumps(data).encode()  # NaN/Infinity as the JSON literals
    except RecursionError:
        return kind, b"[" * 20000 + b"]" * 20000
    finally:
        sys.setrecursionlimit(1000)


def run_one(path: Path) -> tuple[str, str]:
    """('refused' | 'accepted' | 'roundtrip-failed' | 'traceback', detail)."""
    from dmm_studio.fileformat import NetworkFileError, load_network, network_to_json

    try:
        try:
            net = load_network(path)
        except NetworkFileError as e:
            text = str(e)
            if "\n" in text or not text.startswith(str(path)):
                return "bad-message", text[:300]
            return "refused", text.split(": ", 1)[-1][:80]
        try:
            net.machine(engine="reference")
        except (ValueError, RuntimeError) as e:  # what the CLI reports with exit 2
            return "refused-machine", str(e)[:80]
        again_path = path.with_name("again.dmm.json")
        net.save(again_path)
        again = load_network(again_path)
        if network_to_json(again) != network_to_json(net):
            return "roundtrip-failed", str(path)
        return "accepted", ""
    except Exception:  # noqa: BLE001 - counting exactly these is the point
        return "traceback", traceback.format_exc(limit=6)


def fuzz(files: int, seed: int, keep: Path | None = None, quiet: bool = False) -> Counter[str]:
    rng = random.Random(seed)
    examples = sorted(EXAMPLES.glob("*.dmm.json"))
    texts = [p.read_text(encoding="utf-8") for p in examples]
    datas = [json.loads(t) for t in texts]
    paths = [_paths(d) for d in datas]
    counts: Counter[str] = Counter()
    by_kind: Counter[tuple[str, str]] = Counter()
    reasons: Counter[str] = Counter()
    shown = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(files):
            kind, blob = mutate(rng, texts, datas, paths)
            f = Path(tmp) / "m.dmm.json"
            f.write_bytes(blob)
            outcome, detail = run_one(f)
            counts[outcome] += 1
            by_kind[(kind, outcome)] += 1
            if outcome.startswith("refused"):
                reasons[detail.split(" (")[0][:60]] += 1
            if outcome in ("traceback", "bad-message", "roundtrip-failed"):
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"{outcome}-{n}.dmm.json").write_bytes(blob)
                if shown < 5 and not quiet:
                    print(f"--- {outcome} (file {n}, mutation {kind}):\n{detail}", file=sys.stderr)
                    shown += 1
    if not quiet:
        kinds = sorted({k for k, _ in by_kind})
        outcomes = sorted({o for _, o in by_kind})
        print(f"{'mutation':<10}" + "".join(f"{o:>18}" for o in outcomes))
        for k in kinds:
            print(f"{k:<10}" + "".join(f"{by_kind[(k, o)]:>18}" for o in outcomes))
        print("most common refusals:")
        for r, c in reasons.most_common(12):
            print(f"  {c:6}  {r}")
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="folder to keep the files that failed")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    counts = fuzz(args.files, args.seed, args.keep)
    elapsed = time.perf_counter() - start
    refused = counts["refused"] + counts["refused-machine"]
    print(
        f"{args.files} mutated files in {elapsed:.0f} s: {refused} clean refusals "
        f"({counts['refused']} by the loader, {counts['refused-machine']} when building the machine), "
        f"{counts['traceback']} tracebacks, {counts['accepted']} accepted (saved and reloaded equal), "
        f"{counts['roundtrip-failed']} accepted but not reloading equal, "
        f"{counts['bad-message']} refusals not one line naming the file"
    )
    bad = counts["traceback"] + counts["roundtrip-failed"] + counts["bad-message"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
