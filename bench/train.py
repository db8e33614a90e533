"""Training benchmarks (docs/learning.md): the anchor reproduced, fields that learn.

    python bench/train.py duplicates [--steps 600] [--loss 0.01] [--episodes 16] [--device cpu]
    python bench/train.py fields [--steps 150]

``duplicates``: trains examples/duplicates_learn.dmm.json (the non-specific
start, ~1,500 weights) on examples/duplicates_learn.train.json (episodes of
the handcrafted detector examples/duplicates.dmm.json), then measures:

* wall time per training step (one pass of BPTT over every episode), beside
  the 2022 anchor's ~55 s a step on a laptop (another machine: the ratio is
  only indicative);
* training steps until the loss (MSE) first falls to ``--loss``;
* links left after sparsification (the task's L1 and pruning), beside the
  anchor's 22 and the handcrafted network's 11;
* test strings: the trained network *file*, run on the reference engine
  with the reader's tokens set into identity/input each step, over the four
  140-step strings of examples/duplicates_learn.test.json; a string matches
  when every step's output, rounded leaf by leaf to the nearest integer,
  equals the detector's.

It writes the loss curve (``--out``/duplicates_loss.csv) and the trained
network (``--out``/duplicates_trained.dmm.json).

``fields``: trains examples/field_learn.dmm.json (the field's strength,
wavelength, speed and phase, and the units' a and b) and
examples/field_learn_nofield.dmm.json (the units' a and b only) on the same
target image, and prints the two loss curves side by side
(``--out``/fields_loss.csv).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dmm_studio.fileformat import load_network  # noqa: E402
from dmm_studio.learn import TrainTask, Trainer  # noqa: E402

EX = ROOT / "examples"
ANCHOR_S_PER_STEP = 55.0
ANCHOR_LINKS, HANDCRAFTED_LINKS = 22, 11


def rounded(v: dict) -> dict:
    out = {}
    for k, x in (v or {}).items():
        r = round(x)
        if r:
            out[k] = r
    return out


def test_strings(net_path: Path, test: TrainTask) -> list[tuple[str, bool, int]]:
    """Run the trained file on the reference engine, feeding identity/input;
    per test string: (its text, exact match, steps that differ)."""
    out = []
    for ep in test.episodes:
        net = load_network(net_path)
        m = net.machine(engine="reference")
        tokens = ep["inputs"]["identity/input/single"]
        want = ep["targets"]["identity/out/single"]
        wrong = 0
        for t, tok in enumerate(tokens):
            m.step()
            if tok is not None:
                m.set_output("identity", "input", "single", tok)
            got = rounded(m.output("identity", "out", "single"))
            if want[t] is not None and got != rounded(want[t]):
                wrong += 1
        out.append((ep.get("name", "?"), wrong == 0, wrong))
    return out


def duplicates(args: argparse.Namespace) -> None:
    net = load_network(EX / "duplicates_learn.dmm.json")
    data = dict(TrainTask.load(EX / "duplicates_learn.train.json").data)
    data["episodes"] = data["episodes"][: args.episodes]
    if args.lr:
        data["optimizer"] = {**data.get("optimizer", {}), "lr": args.lr}
    task = TrainTask.from_dict(data, source="duplicates_learn.train.json")
    test = TrainTask.load(EX / "duplicates_learn.test.json")
    trainer = Trainer(net, task, device=args.device)
    m = trainer.model
    print(
        f"start: {len(m.entries)} weights ({m.links()} trainable), {len(m.rows)} inputs x {len(m.cols)} outputs, "
        f"basis {m.B}; {trainer.E} episodes x {trainer.T} steps; device {args.device}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    log = (args.out / "duplicates_loss.csv").open("w")
    log.write("step,loss,mse,links,seconds\n")
    reached = None
    times = []
    t0 = time.perf_counter()
    for _ in range(args.steps):
        s = time.perf_counter()
        r = trainer.step()
        times.append(time.perf_counter() - s)
        mse = r.terms[task.loss]
        log.write(f"{r.step},{r.loss:.6g},{mse:.6g},{r.links},{times[-1]:.3f}\n")
        log.flush()
        if reached is None and mse <= args.loss:
            reached = r.step
        if r.step % args.every == 0 or r.step == 1:
            print(f"step {r.step:5d}  loss {r.loss:.5f}  mse {mse:.5f}  links {r.links:5d}  {times[-1]:.2f} s/step")
    net_out = args.out / "duplicates_trained.dmm.json"
    trained = trainer.finish()
    trained.save(net_out)
    links = trainer.model.links()
    final_mse, _ = trainer.evaluate()
    results = test_strings(net_out, test)
    times.sort()
    median = times[len(times) // 2]
    print()
    print(f"wall time: {time.perf_counter() - t0:.0f} s for {args.steps} steps")
    print(
        f"time per training step: median {median:.2f} s here ({trainer.E} episodes x {trainer.T} steps) "
        f"vs the anchor's ~{ANCHOR_S_PER_STEP:.0f} s on a laptop (other machine, other batch): "
        f"x{ANCHOR_S_PER_STEP / median:.0f}"
    )
    print(f"steps to mse <= {args.loss}: {reached if reached is not None else 'not reached'}")
    print(f"final training mse (pruned network): {final_mse:.5f}")
    print(f"links left: {links} (anchor after sparsification: {ANCHOR_LINKS}, handcrafted: {HANDCRAFTED_LINKS})")
    exact = sum(ok for _, ok, _ in results)
    print(f"test strings (140 steps, trained file on the reference engine): {exact}/{len(results)} exact")
    for text, ok, wrong in results:
        print(f"  {'ok ' if ok else 'NO '} {wrong:3d} steps differ  {text[:40]}...")
    print(f"wrote {net_out} and {args.out / 'duplicates_loss.csv'}")


def fields(args: argparse.Namespace) -> None:
    curves = {}
    for name in ("field_learn", "field_learn_nofield"):
        net = load_network(EX / f"{name}.dmm.json")
        task = TrainTask.load(EX / f"{name}.train.json")
        trainer = Trainer(net, task, device=args.device)
        curve = []
        for _ in range(args.steps):
            curve.append(trainer.step().loss)
        curves[name] = curve
        print(f"{name}: {sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)} numbers train")
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "fields_loss.csv").open("w") as f:
        f.write("step,with_field,without_field\n")
        for i, (a, b) in enumerate(zip(curves["field_learn"], curves["field_learn_nofield"], strict=True)):
            f.write(f"{i + 1},{a:.6g},{b:.6g}\n")
    print(f"{'step':>6} {'with field':>12} {'without':>12}")
    for i in [0, 4, 9, 19, 49, 99, 149, 199, 299, 399, 499]:
        if i < args.steps:
            print(f"{i + 1:6d} {curves['field_learn'][i]:12.5f} {curves['field_learn_nofield'][i]:12.5f}")
    a, b = curves["field_learn"][-1], curves["field_learn_nofield"][-1]
    print(f"final loss: with the field {a:.5f}, without {b:.5f} (ratio {b / max(a, 1e-12):.1f})")
    print(f"wrote {args.out / 'fields_loss.csv'}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("which", choices=["duplicates", "fields"])
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--loss", type=float, default=0.01, help="the loss whose first reaching is counted")
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--every", type=int, default=25, help="print every N steps")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", type=Path, default=Path("/tmp/dmm-bench-train"))
    args = p.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.which == "duplicates":
        args.steps = args.steps or 600
        duplicates(args)
    else:
        args.steps = args.steps or 150
        fields(args)


if __name__ == "__main__":
    main()
