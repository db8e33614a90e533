"""The ``dmm-studio`` command.

    dmm-studio                          open the studio on an empty network
    dmm-studio open FILE [...]          open the studio on a network
    dmm-studio run FILE --steps N [--trace OUT.jsonl] [--engine NAME] [--threads N]
    dmm-studio sweep SPEC --out DIR     many runs of a network (docs/sweeps.md)
    dmm-studio train NET TASK --out TRAINED.dmm.json [--steps N] [--log LOSS.csv]   (docs/learning.md)

Bad input (a missing or malformed file, a bad option) exits with status 2 and
one line on stderr that names the file and what is wrong; never a traceback.
A neuron failing while the network runs exits with status 1, naming it; so
does a run whose values become NaN or infinite (the first step, neuron and
output on stderr; the trace keeps the steps before), unless
``--allow-nonfinite`` is given: then it is reported once and the run goes on,
and so does a trace that cannot be written (a full disk: one line naming it).
An output option naming the input file (``--trace``, ``--screenshot``, also
through a symlink) is refused with status 2: nothing is overwritten. Ctrl+C
during ``run`` stops it at the step it reached: the summary so far, a trace
of whole lines, status 130.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from tqdm import tqdm

from .engine import DEFAULT_ENGINE, ENGINES, NetworkHalted, StepError
from .fileformat import NetworkFileError, TraceWriteError, TraceWriter, load_network

if TYPE_CHECKING:
    from .nonfinite import NonFiniteValue

EXIT_BAD_INPUT = 2
EXIT_RUN_FAILED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
# --steps bound: a run of 10^12 steps is days at a million steps a second; more
# is a typo (and outgrows the engines' 64-bit step counters long before it ends)
MAX_STEPS = 10**12


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, status 2
        self.exit(EXIT_BAD_INPUT, f"dmm-studio: {message} (see dmm-studio --help)\n")


def _nonneg_int(most: int | None = None) -> Any:
    """An argparse type: a whole number 0..``most`` (argparse names the option in its errors)."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes a whole number, not {text!r}") from None
        if n < 0:
            raise argparse.ArgumentTypeError(f"must be 0 or more, not {n}")
        if most is not None and n > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:,}, not {text}")
        return n

    return parse


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether paths ``a`` and ``b`` name one file (through symlinks and hard links too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they would be
        return os.path.realpath(a) == os.path.realpath(b)


def _overwrites_input(err: TextIO, option: str, path: str | None, file: str | None) -> bool:
    """Write the one line and say True when output ``path`` is the input ``file``."""
    if path is None or file is None or not _same_file(path, file):
        return False
    err.write(f"dmm-studio: {option} {path} is the input file {file}: refusing to overwrite it\n")
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dmm-studio", description="Build, run and understand Dataflow Matrix Machines.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="run a network headless")
    run.add_argument("file", help="a *.dmm.json network file")
    run.add_argument(
        "--steps",
        type=_nonneg_int(MAX_STEPS),
        required=True,
        help=f"how many steps to run (0 to {MAX_STEPS:,}; Ctrl+C stops early with the summary so far)",
    )
    run.add_argument("--trace", metavar="OUT.jsonl", help="write y_t for t = 1..N, one JSON line a step")
    run.add_argument(
        "--engine",
        default=None,
        help=f"engine: {', '.join(sorted(ENGINES))} (default: {DEFAULT_ENGINE}, which runs the "
        "reference's code for the networks where compiling does not pay)",
    )
    run.add_argument(
        "--device", default="auto", choices=["auto", "cpu", "cuda"], help="for the compiled engine"
    )
    run.add_argument(
        "--threads",
        type=_nonneg_int(),
        default=None,
        help="torch threads for the compiled engine (default: by size and load, one for small "
        "networks; 0 leaves torch's own setting)",
    )
    run.add_argument(
        "--allow-outside-files",
        action="store_true",
        help="let neurons read data files outside the network file's folder (absolute paths, '..')",
    )
    run.add_argument(
        "--allow-nonfinite",
        action="store_true",
        help="go on when a value becomes NaN or infinite (it is still reported, once)",
    )
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )

    from .sweep.command import add_arguments as sweep_arguments

    sweep_arguments(sub.add_parser("sweep", help="run a sweep spec: many runs of a network, one row each"))
    from .learn.command import add_arguments as train_arguments

    train_arguments(sub.add_parser("train", help="train a network on a *.train.json task (docs/learning.md)"))

    op = sub.add_parser("open", help="open the studio on a network")
    op.add_argument("file", nargs="?", help="a *.dmm.json network file")
    op.add_argument("--steps", type=_nonneg_int(MAX_STEPS), default=0, help="run this many steps first")
    op.add_argument("--screenshot", metavar="OUT.png", help="render offscreen to a PNG and exit")
    op.add_argument("--engine", default=None)
    op.add_argument(
        "--probe",
        action="append",
        default=[],
        metavar="TYPE/NAME/OUTPUT",
        help="open a probe on an output (repeatable)",
    )
    op.add_argument("--self-view", action="store_true", help="show the Self view of the matrix")
    op.add_argument(
        "--engine-thread",
        action="store_true",
        help="run the engine in a thread of the studio (default: a process of its own, so that "
        "drawing never slows it; the screenshot mode always uses a thread)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        try:
            return run_command(args)
        except KeyboardInterrupt:  # before the first step (loading, compiling): nothing to keep
            sys.stderr.write("dmm-studio: interrupted\n")
            return EXIT_INTERRUPTED
    if args.command == "sweep":
        from .sweep.command import sweep_command

        return sweep_command(args)
    if args.command == "train":
        from .learn.command import train_command

        return train_command(args)
    if _overwrites_input(
        sys.stderr, "--screenshot", getattr(args, "screenshot", None), getattr(args, "file", None)
    ):
        return EXIT_BAD_INPUT
    from .gui import launch  # only the studio needs Qt

    return launch(args)


def _engine_kwargs(args: argparse.Namespace) -> dict[str, object]:
    from .engine import DEFAULT_ENGINE

    name = args.engine or DEFAULT_ENGINE
    if name == "reference":
        return {}
    return {"device": args.device, "threads": getattr(args, "threads", None)}


def run_command(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if _overwrites_input(err, "--trace", args.trace, args.file):
        return EXIT_BAD_INPUT
    if args.engine is not None and args.engine not in ENGINES:
        err.write(f"dmm-studio: unknown engine {args.engine!r} (one of {', '.join(sorted(ENGINES))})\n")
        return EXIT_BAD_INPUT
    try:
        with _warnings_as_lines(err, args.file):  # ports the types do not declare: one line each
            net = load_network(args.file)
    except NetworkFileError as e:
        err.write(f"dmm-studio: {e}\n")
        return EXIT_BAD_INPUT
    try:
        with _warnings_as_lines(err, args.file):  # a network the fast engine cannot run: one line
            machine = net.machine(
                engine=args.engine, allow_outside_files=args.allow_outside_files, **_engine_kwargs(args)
            )
    except (ValueError, RuntimeError) as e:
        err.write(f"dmm-studio: {args.file}: {e}\n")
        return EXIT_BAD_INPUT
    try:
        trace = TraceWriter(args.trace) if args.trace else None
    except OSError as e:
        err.write(f"dmm-studio: cannot write the trace {args.trace}: {e.strerror or e}\n")
        return EXIT_BAD_INPUT

    show = err.isatty() if args.progress is None else args.progress
    bar = tqdm(total=args.steps, file=err, unit="step", mininterval=0.1) if show and args.steps else None
    status = 0
    start = time.perf_counter()
    watch = True  # for the first NaN or infinity
    lines = _warnings_as_lines(err, args.file)  # W entries that are no weight, ...: one line each
    lines.__enter__()
    ctrl_c = _ctrl_c_between_steps()
    stop = ctrl_c.__enter__()
    try:
        for _ in range(args.steps):
            if stop:
                raise KeyboardInterrupt
            machine.step()
            if watch and (hit := machine.non_finite()) is not None:
                watch = False
                if not args.allow_nonfinite:
                    if bar:
                        bar.close()
                    err.write(
                        f"dmm-studio: {args.file}: {_nonfinite_text(hit)} (--allow-nonfinite goes on)\n"
                    )
                    status = EXIT_RUN_FAILED
                    break
                nl = "\n" if bar else ""  # below the progress bar
                err.write(f"{nl}dmm-studio: {args.file}: warning: {_nonfinite_text(hit)} (going on)\n")
            if trace:
                trace.write(machine.t, machine.state)
            if bar:
                bar.update()
    except NetworkHalted as e:
        if bar:
            bar.close()
        out.write(f"{args.file}: {e}\n")
    except StepError as e:
        if bar:
            bar.close()
        err.write(f"dmm-studio: {args.file}: {e}\n")
        status = EXIT_RUN_FAILED
    except KeyboardInterrupt:  # Ctrl+C: the summary so far, the trace's whole lines kept
        if bar:
            bar.close()
        err.write(f"dmm-studio: {args.file}: interrupted at step {machine.t}\n")
        status = EXIT_INTERRUPTED
    except TraceWriteError as e:  # a full disk, ...: the writer closed the file
        if bar:
            bar.close()
        err.write(f"dmm-studio: {e}\n")
        status = EXIT_RUN_FAILED
        trace = None
    finally:
        ctrl_c.__exit__(None, None, None)
        lines.__exit__(None, None, None)
    if trace:
        try:
            trace.close()  # the last buffered lines: a full disk shows here for short runs
        except TraceWriteError as e:
            err.write(f"dmm-studio: {e}\n")
            status = status or EXIT_RUN_FAILED
    if bar:
        bar.close()
    elapsed = time.perf_counter() - start
    stats = machine.stats()
    rate = f"{machine.t / elapsed:,.0f} steps/s" if elapsed > 0 and machine.t else "-"
    out.write(
        f"{args.file}: {machine.t} steps in {elapsed:.3f} s ({rate}); "
        f"{stats['active']} active neurons; {stats['nonzeros']} matrix non-zeros\n"
    )
    return status


@contextlib.contextmanager
def _ctrl_c_between_steps() -> Iterator[list[bool]]:
    """Ctrl+C (SIGINT) only marks the list the run loop checks before each
    step, so that the step, its trace line and the summary stay whole; a
    second Ctrl+C interrupts at once. Outside the main thread: Python's own."""
    hit: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield hit
        return

    def handler(signum: int, frame: Any) -> None:
        if hit:
            raise KeyboardInterrupt
        hit.append(True)

    old = signal.signal(signal.SIGINT, handler)
    try:
        yield hit
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _warnings_as_lines(err: TextIO, file: str) -> Iterator[None]:
    """Warnings raised while the network runs, as ``dmm-studio: FILE: warning: ...``."""
    with warnings.catch_warnings():

        def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
            err.write(f"dmm-studio: {file}: warning: {message}\n")

        warnings.showwarning = show
        yield


def _nonfinite_text(hit: NonFiniteValue) -> str:
    """``step t: neuron f/n: nan in f/n/o at path``: where a run first went non-finite."""
    return f"step {hit.t}: neuron {hit.neuron[0]}/{hit.neuron[1]}: {hit.message}"


if __name__ == "__main__":
    sys.exit(main())
