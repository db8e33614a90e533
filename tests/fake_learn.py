"""A tiny fake of ``dmm_studio.learn``'s contract (``TrainTask.load``,
``train(net, task, *, steps, device, seed, on_step)``, ``StepReport``,
``TrainResult``, ``TaskError``), to test the engine host's training messages
and the Train panel without training anything: each step scales every weight
outside Self's row by ``factor`` and prunes those below ``prune``; the loss is
the sum of squared weights. A task file is ``{"steps", "factor", "prune",
"delay" (seconds a step), "fail_at" (a step that raises)}``."""

from __future__ import annotations

import json
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

from dmm_studio.network import Network


class TaskError(ValueError):
    pass


@dataclass
class Report:
    step: int
    loss: float
    terms: dict
    links: int
    pruned: int
    elapsed_s: float
    net: Network

    def network(self):
        return self.net


@dataclass
class Result:
    network: Network
    history: list


@dataclass
class TrainTask:
    steps: int
    factor: float
    prune: float
    delay: float
    fail_at: int | None = None

    @classmethod
    def load(cls, path):
        try:
            d = json.loads(Path(path).read_text())
            return cls(
                int(d["steps"]), float(d["factor"]), float(d["prune"]), float(d.get("delay", 0.0)), d.get("fail_at")
            )
        except (OSError, ValueError, KeyError) as e:
            raise TaskError(f"{path}: not a task ({e})") from None


def train(net, task, *, steps=None, device="cpu", seed=None, on_step=None):
    work = net.copy()
    history = []
    t0 = time.perf_counter()
    for k in range(1, (steps or task.steps) + 1):
        changes = []
        pruned = 0  # after this step (as learn's StepReport)
        for to, frm, w in list(work.wires()):
            if to[:2] == ("self", "self"):
                continue
            nw = w * task.factor
            if abs(nw) < task.prune:
                nw = 0
                pruned += 1
            changes.append((to, frm, nw))
        work.set_weights(changes)
        links = sum(1 for *_k, w in work.wires() if w)
        l2 = sum(w * w for *_k, w in work.wires())
        r = Report(k, l2, {"mse": l2 * 0.5, "l1": l2 * 0.5}, links, pruned, time.perf_counter() - t0, work.copy())
        history.append(r)
        if k == task.fail_at:
            raise RuntimeError(f"step {k} went wrong\non two lines")
        if task.delay:
            time.sleep(task.delay)
        if on_step is not None and on_step(r) is False:
            break
    return Result(work, history)


def install_fake_learn(monkeypatch):
    """Put this fake in the place of ``dmm_studio.learn`` (for the engine host
    in this process: a thread's, or a ``Host`` driven by hand)."""
    mod = types.ModuleType("dmm_studio.learn")
    mod.TaskError, mod.TrainTask, mod.train = TaskError, TrainTask, train
    monkeypatch.setitem(sys.modules, "dmm_studio.learn", mod)
    return mod
