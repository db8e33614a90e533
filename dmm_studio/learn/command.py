"""``dmm-studio train NET TASK --steps N --out TRAINED.dmm.json``: the command's body.

Exit status: 0 when training ran (Ctrl+C stops it early: the network of the
last whole step is written, status 130); 2 for bad input (one line naming
the file and what is wrong, nothing written); 1 when training failed (the
loss became NaN or infinite: nothing written).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import TextIO

from ..fileformat import load_network, save_network
from ..jsonio import NetworkFileError

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``train`` subcommand's options."""
    p.add_argument("network", help="the *.dmm.json network to train")
    p.add_argument("task", help="a *.train.json training task")
    p.add_argument("--out", required=True, metavar="TRAINED.dmm.json", help="where the trained network goes")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the task's)")
    p.add_argument("--log", metavar="LOSS.csv|.jsonl", help="write the loss of every step (CSV or JSON lines)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="torch device (default cpu)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    p.add_argument("--seed", type=int, default=None, help="overrides the task's seed")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def train_command(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    for option, path in (("--out", args.out), ("--log", args.log)):
        for given in (args.network, args.task):
            if path is not None and _same(path, given):
                err.write(f"dmm-studio: {option} {path} is the input file {given}: refusing to overwrite it\n")
                return EXIT_BAD_INPUT
    if args.log is not None and not args.log.endswith((".csv", ".jsonl")):
        err.write(f"dmm-studio: --log {args.log}: name a .csv or .jsonl file\n")
        return EXIT_BAD_INPUT
    if args.steps is not None and args.steps < 1:
        err.write(f"dmm-studio: --steps must be 1 or more, not {args.steps}\n")
        return EXIT_BAD_INPUT
    from .task import TaskError, TrainTask

    try:
        net = load_network(args.network)
        task = TrainTask.load(args.task)
    except (NetworkFileError, TaskError) as e:
        err.write(f"dmm-studio: {e}\n")
        return EXIT_BAD_INPUT
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        err.write("dmm-studio: --device cuda: torch sees no CUDA device here\n")
        return EXIT_BAD_INPUT
    if args.threads:
        torch.set_num_threads(args.threads)
    from tqdm import tqdm

    from .trainer import Trainer

    try:
        trainer = Trainer(net, task, device=args.device, seed=args.seed)
    except TaskError as e:
        err.write(f"dmm-studio: {e}\n")
        return EXIT_BAD_INPUT
    steps = task.steps if args.steps is None else args.steps
    show = err.isatty() if args.progress is None else args.progress
    log = open(args.log, "w", encoding="utf-8", newline="") if args.log else None  # noqa: SIM115
    csv = log is not None and args.log.endswith(".csv")
    status = 0
    last = None
    try:
        if csv and log is not None:
            log.write("step,loss,links,pruned,elapsed_s,terms\n")
        with tqdm(total=steps, disable=not show, file=err, unit="step", desc="train") as bar:
            for _ in range(steps):
                report = trainer.step()
                last = report
                if not math.isfinite(report.loss):
                    err.write(f"dmm-studio: the loss became {report.loss} at training step {report.step}\n")
                    return EXIT_FAILED
                if log is not None:
                    if csv:
                        terms = ";".join(f"{k}={v:.6g}" for k, v in report.terms.items())
                        log.write(
                            f"{report.step},{report.loss:.9g},{report.links},{report.pruned},"
                            f"{report.elapsed_s:.3f},{terms}\n"
                        )
                    else:
                        log.write(json.dumps({
                            "step": report.step, "loss": report.loss, "terms": report.terms,
                            "links": report.links, "pruned": report.pruned, "elapsed_s": report.elapsed_s,
                        }) + "\n")
                    log.flush()
                bar.set_postfix(loss=f"{report.loss:.4g}", links=report.links)
                bar.update(1)
    except KeyboardInterrupt:
        err.write("dmm-studio: interrupted; writing the network of the last whole step\n")
        status = EXIT_INTERRUPTED
    finally:
        if log is not None:
            log.close()
    trained = trainer.finish()
    trained.meta = {**trained.meta, "trained": {"task": Path(args.task).name, "steps": trainer.step_count}}
    try:
        save_network(trained, args.out)
    except OSError as e:
        err.write(f"dmm-studio: cannot write {args.out}: {e.strerror or e}\n")
        return EXIT_BAD_INPUT
    loss = f"{last.loss:.6g}" if last is not None else "-"
    model = trainer.model
    if int(model.train_mask.sum()) == 0:  # only params or fields train: "0 links left" read as all pruned
        numbers = sum(p.numel() for p in model.parameters() if p.requires_grad and p is not model.w)
        links = f"no weights trained ({numbers} params and field numbers trained)"
    else:
        links = f"{model.links()} links left"
    out.write(f"{args.network}: {trainer.step_count} training steps, loss {loss}, {links}; wrote {args.out}\n")
    return status


__all__ = ["add_arguments", "train_command"]
