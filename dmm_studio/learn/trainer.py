"""``train(net, task)``: backpropagation through time over a differentiable run.

Each training step runs every episode of the task side by side for the
task's length (``DiffNet.run``), feeding the input streams, scores the
target streams (the loss plus L1/L2 on the trainable weights), and updates
the trainable weights, params and field numbers with a ``torch.optim``
optimiser. With ``truncation`` k the episode is cut into pieces of k network
steps: a backward pass and an optimiser step after each, the state carried
on without its history. Between steps, pruning (``prune.threshold``) sets
trainable weights below the threshold to 0 for good.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..network import Network
from ..registry import Registry
from .run import DiffError, DiffNet, labels_of
from .task import TaskError, TrainTask


@dataclass
class StepReport:
    """One training step: ``step`` (1-based), ``loss`` (the whole objective),
    ``terms`` (its parts: the loss by name, ``"l1"``, ``"l2"``), ``links``
    (non-zero trainable weights left), ``pruned`` (weights pruned after this
    step), ``elapsed_s`` (wall time since training began)."""

    step: int
    loss: float
    terms: dict[str, float]
    links: int
    pruned: int
    elapsed_s: float
    _make: Callable[[], Network] | None = field(default=None, repr=False, compare=False)
    _net: Network | None = field(default=None, repr=False, compare=False)

    def network(self) -> Network:
        """The network with the weights of this step (built on first call; a
        report kept after later steps gives the weights of the latest one)."""
        if self._net is None:
            assert self._make is not None
            self._net = self._make()
        return self._net


@dataclass
class TrainResult:
    """``network``: the trained network (pruned when the task asks);
    ``history``: one StepReport per training step."""

    network: Network
    history: list[StepReport]

    @property
    def losses(self) -> list[float]:
        return [r.loss for r in self.history]


class Trainer:
    """A task compiled against a network: the DiffNet, the streams as
    tensors, the optimiser. ``train`` drives it; tests and benches use it
    directly."""

    def __init__(
        self,
        net: Network,
        task: TrainTask,
        *,
        device: str = "cpu",
        seed: int | None = None,
        registry: Registry | None = None,
    ) -> None:
        task.check(net, registry)
        self.task = task
        seed = task.seed if seed is None else seed
        if seed is not None:
            torch.manual_seed(seed)
        fed = task.ports("inputs")
        targets = task.ports("targets")
        labels: dict[str, None] = {}
        for e_i, ep in enumerate(task.episodes):
            for part in ("inputs", "targets"):
                for key, stream in (ep.get(part) or {}).items():
                    for s_i, v in enumerate(stream):
                        if v is not None:
                            try:
                                labels.update(dict.fromkeys(labels_of(v, "")))
                            except DiffError as e:
                                raise task.fail(str(e).lstrip(": "), "episodes", e_i, part, key, s_i) from None
        try:
            self.model = DiffNet(
                net,
                registry=registry,
                fed=fed,
                extra_ports=targets,
                labels=list(labels),
                train_params=task.param_selection(net),
                train_fields=task.field_selection(),
                surrogate=task.surrogate,
                temperature=task.temperature,
                device=device,
            )
        except DiffError as e:
            raise TaskError(getattr(net, "source", None) or "<network>", str(e)) from None
        mask = task.weight_mask(self.model.entries)
        if mask is not None:
            self.model.train_mask = torch.tensor(mask, dtype=torch.bool, device=self.model.device)
        m = self.model
        E, T, B = len(task.episodes), task.length, m.B
        self.E, self.T = E, T

        def stack(part: str, ports: list[Any]) -> tuple[torch.Tensor, torch.Tensor]:
            vals = torch.zeros(E, T, len(ports), B, dtype=torch.float64)
            have = torch.zeros(E, T, len(ports), dtype=torch.bool)
            for e_i, ep in enumerate(task.episodes):
                streams = ep.get(part) or {}
                for k, port in enumerate(ports):
                    stream = streams.get("/".join(port))
                    if stream is None:
                        continue
                    for s_i, v in enumerate(stream):
                        if v is not None:
                            vals[e_i, s_i, k] = m.vector(v).cpu()
                            have[e_i, s_i, k] = True
            return vals.to(m.device), have.to(m.device)

        self.feeds, _ = stack("inputs", fed)
        self.targets, self.scored = stack("targets", targets)
        self.target_cols = torch.tensor([m.col_index[p] for p in targets], dtype=torch.long, device=m.device)
        params = [p for p in m.parameters() if p.requires_grad]
        if not m.train_mask.any():
            params = [p for p in params if p is not m.w]
        if not params:
            raise task.fail("nothing trains: no trainable weight, param or field", "trainable")
        cls = getattr(torch.optim, task.optimizer)
        self.optimizer = cls(params, lr=task.lr, **task.optimizer_options)
        self.step_count = 0
        self.started = time.perf_counter()

    # ------------------------------------------------------------ objective
    def _loss(self, ys: list[torch.Tensor], t0: int) -> torch.Tensor:
        """Sum over scored (episode, step, target) of the error, divided by
        the number of scored values of the whole pass."""
        y = torch.stack(ys, dim=1)[:, :, self.target_cols]  # [E, k, K, B]
        tgt = self.targets[:, t0 : t0 + len(ys)]
        have = self.scored[:, t0 : t0 + len(ys)]
        diff = y - tgt
        err = (diff * diff).sum(-1) if self.task.loss == "mse" else diff.abs().sum(-1)
        return (err * have).sum() / max(int(self.scored.sum()), 1)

    def _regular(self) -> tuple[torch.Tensor, dict[str, float]]:
        m = self.model
        w = torch.where(m.train_mask & m.alive, m.w, torch.zeros_like(m.w))
        total = w.new_zeros(())
        terms: dict[str, float] = {}
        if self.task.l1:
            l1 = self.task.l1 * w.abs().sum()
            total = total + l1
            terms["l1"] = float(l1.detach())
        if self.task.l2:
            l2 = self.task.l2 * (w * w).sum()
            total = total + l2
            terms["l2"] = float(l2.detach())
        return total, terms

    def evaluate(self) -> tuple[float, torch.Tensor]:
        """The task's loss (no regularisation) with the current weights, and
        the outputs ``[E, T, K, B]`` at the target ports; no gradients."""
        with torch.no_grad():
            ys = [y for _, y in self.model.run(self.T, self.E, self.feeds)]
            loss = self._loss(ys, 0)
            return float(loss), torch.stack(ys, dim=1)[:, :, self.target_cols]

    def step(self) -> StepReport:
        """One training step (one pass over every episode); prunes after it
        when the task asks."""
        m, task = self.model, self.task
        k = task.truncation or self.T
        y = None
        total_loss = 0.0
        for t0 in range(0, self.T, k):
            n = min(k, self.T - t0)
            self.optimizer.zero_grad(set_to_none=True)
            ys = []
            for _, y in m.run(n, self.E, self.feeds, y=y, t0=t0):
                ys.append(y)
            loss = self._loss(ys, t0)
            reg, terms = self._regular()
            (loss + reg * n / self.T).backward()
            if m.w.grad is not None:
                m.w.grad[~(m.train_mask & m.alive)] = 0
            if task.clip:
                torch.nn.utils.clip_grad_norm_(
                    [p for g in self.optimizer.param_groups for p in g["params"]], task.clip
                )
            self.optimizer.step()
            with torch.no_grad():
                m.w[~m.alive] = 0.0
            total_loss += float(loss.detach())
            y = y.detach() if y is not None else None
        self.step_count += 1
        pruned = 0
        if task.prune_threshold is not None and self.step_count >= task.prune_start:
            every = task.prune_every
            if every and self.step_count % every == 0:
                pruned = m.prune(task.prune_threshold)
        _, terms = self._regular()
        terms = {task.loss: total_loss, **terms}
        report = StepReport(
            self.step_count,
            total_loss + sum(v for key, v in terms.items() if key != task.loss),
            terms,
            m.links(),
            pruned,
            time.perf_counter() - self.started,
            _make=m.network,
        )
        return report

    def finish(self) -> Network:
        """The trained network (pruned once more when the task asks)."""
        if self.task.prune_threshold is not None:
            self.model.prune(self.task.prune_threshold)
        return self.model.network()


def train(
    net: Network,
    task: TrainTask,
    *,
    steps: int | None = None,
    device: str = "cpu",
    seed: int | None = None,
    on_step: Callable[[StepReport], bool | None] | None = None,
    registry: Registry | None = None,
) -> TrainResult:
    """Train ``net`` on ``task`` for ``steps`` training steps (default the
    task's). ``on_step(report)`` is called after each step; returning False
    stops (pausing is the caller's: it may block). ``device``: a torch device
    ("cpu", "cuda"). Raises TaskError (one line) for a task that does not fit
    the network or a network the differentiable run cannot hold."""
    trainer = Trainer(net, task, device=device, seed=seed, registry=registry)
    history: list[StepReport] = []
    for _ in range(task.steps if steps is None else steps):
        report = trainer.step()
        history.append(report)
        if on_step is not None and on_step(report) is False:
            break
    return TrainResult(trainer.finish(), history)


__all__ = ["StepReport", "TrainResult", "Trainer", "train"]
