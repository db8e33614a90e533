"""``dmm-studio sweep SPEC --out DIR``: the command's body (cli.py holds its options).

Exit status: 0 when every run has a row (failed runs included: their status
says so), 2 for bad input (one line naming the file and what is wrong).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from ..jsonio import NetworkFileError
from .run import PARQUET_FILE, RUNS_FILE, Sweep, SweepOutError, ray_available
from .spec import SweepSpecError, load_spec

EXIT_BAD_INPUT = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``sweep`` subcommand's options."""
    p.add_argument("spec", help="a *.sweep.json sweep spec")
    p.add_argument(
        "--out", required=True, metavar="DIR", help="the folder for runs.csv (resumed when it exists)"
    )
    p.add_argument("--address", help="a Ray cluster's address (default: Ray on this machine's cores)")
    p.add_argument(
        "--in-process", action="store_true", help="run the points one by one in this process, even with Ray"
    )
    p.add_argument("--num-cpus", type=int, default=None, help="Ray's CPUs on this machine (default: all)")
    p.add_argument("--keep-traces", action="store_true", help="write each run's trace to DIR/traces/")
    p.add_argument("--parquet", action="store_true", help="also write DIR/runs.parquet (needs pyarrow)")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )


def sweep_command(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        spec = load_spec(args.spec)
    except SweepSpecError as e:
        if _is_network_file(args.spec):  # the spec's errors would say "no 'network'"
            err.write(
                f"dmm-studio: {args.spec} is a network file, not a sweep spec (*.sweep.json); "
                "dmm-studio run runs a network\n"
            )
        else:
            err.write(f"dmm-studio: {e}\n")
        return EXIT_BAD_INPUT
    except NetworkFileError as e:
        err.write(f"dmm-studio: {e}\n")
        return EXIT_BAD_INPUT
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        err.write(f"dmm-studio: --out must be a folder: {args.out} is a file\n")
        return EXIT_BAD_INPUT
    # what the sweep writes there is never an input (its copy of the spec, SPEC_COPY, is
    # compared before it is written: Sweep refuses a folder whose copy is not this spec's)
    for name in (RUNS_FILE, PARQUET_FILE):
        for given in (args.spec, spec.network_path):
            if _same_file(out_dir / name, given):
                err.write(
                    f"dmm-studio: --out {args.out} would overwrite the input file {given} "
                    f"(it writes {name} there): use another folder\n"
                )
                return EXIT_BAD_INPUT
    if args.keep_traces:
        spec.keep_traces = True
    if args.parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            err.write(
                "dmm-studio: --parquet needs pyarrow (pip install pyarrow); runs.csv is always written\n"
            )
            return EXIT_BAD_INPUT
    try:
        sweep = Sweep(spec, args.out)
    except (SweepOutError, OSError) as e:
        err.write(f"dmm-studio: {e}\n")
        return EXIT_BAD_INPUT
    pending = sweep.pending()
    total = len(sweep.points)
    has_ray = ray_available()
    if args.address and not has_ray:
        err.write("dmm-studio: --address needs Ray: pip install 'dmm-studio[distributed]'\n")
        return EXIT_BAD_INPUT
    use_ray = has_ray and not args.in_process and bool(pending)
    if not has_ray and pending:
        err.write(
            f"dmm-studio: running {len(pending)} points one by one in this process; "
            "Ray would run them in parallel (pip install 'dmm-studio[distributed]')\n"
        )
    if len(pending) < total:
        out.write(
            f"{args.spec}: resuming: {total - len(pending)} of {total} runs already in {sweep.runs_path}\n"
        )
    from tqdm import tqdm

    show = err.isatty() if args.progress is None else args.progress
    counts: dict[str, int] = {}
    with tqdm(
        total=total, initial=total - len(pending), disable=not show, file=err, unit="run", desc="sweep"
    ) as bar:

        def on_row(row: dict[str, Any]) -> None:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
            bar.update(1)
            if row["status"] != "ok":
                bar.write(f"run {row['run']}: {row['status']}: {row.get('error') or ''}", file=err)

        try:
            sweep.run(use_ray=use_ray, address=args.address, num_cpus=args.num_cpus, on_row=on_row)
        except KeyboardInterrupt:
            err.write(f"dmm-studio: stopped; run the same command again to resume ({sweep.runs_path})\n")
            return 130
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing left to run"
    where = "on Ray" if use_ray else "in this process"
    out.write(f"{args.spec}: {len(pending)} runs {where} ({summary}); rows in {os.fspath(sweep.runs_path)}\n")
    if args.parquet:
        out.write(f"{args.spec}: {sweep.write_parquet()}\n")
    return 0


def _is_network_file(path: str) -> bool:
    """Whether ``path`` holds a network file (``"format": "dmm-studio/..."``) rather than a spec."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and str(data.get("format", "")).startswith("dmm-studio/")


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file (through symlinks and hard links too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
