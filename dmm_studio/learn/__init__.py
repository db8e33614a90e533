"""Learning: DMM synthesis by gradient, with sparsification, and fields that learn.

    >>> from dmm_studio.learn import TrainTask, train
    >>> task = TrainTask.load("examples/duplicates_learn.train.json")
    >>> result = train(net, task, steps=100, on_step=lambda r: print(r.step, r.loss))
    >>> result.network.save("trained.dmm.json")

``task.py`` (``*.train.json``: ``TrainTask``, ``TaskError``), ``run.py``
(``DiffNet``: the differentiable run), ``kernels.py`` (the protocol of the
types' differentiable kernels), ``modulation.py`` (fields in torch),
``trainer.py`` (``train``, ``StepReport``, ``TrainResult``), ``command.py``
(``dmm-studio train``). docs/learning.md says what is held fixed and how.

Names load on first use: ``TrainTask`` and ``TaskError`` do not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "TrainTask": "task",
    "TaskError": "task",
    "train": "trainer",
    "Trainer": "trainer",
    "TrainResult": "trainer",
    "StepReport": "trainer",
    "DiffNet": "run",
    "DiffError": "run",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dmm_studio.learn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from .run import DiffError, DiffNet
    from .task import TaskError, TrainTask
    from .trainer import StepReport, Trainer, TrainResult, train
