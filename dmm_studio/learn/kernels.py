"""The protocol of differentiable neuron kernels (what training runs).

A neuron type may declare an autograd-safe kernel,
``@neuron(..., differentiable=kernel)`` (``NeuronType.differentiable``); the
built-in pack declares them in ``nodes/_grad.py``. A type without one cannot
be part of a differentiable run (``dmm_studio.learn`` names it).

The differentiable run holds every V-value in a fixed *basis*: index 0 is
the scalar (``":number"``), index ``k >= 1`` the child ``basis[k]`` of the
root (one level of labels: ``{"a": 1}`` is a one-hot vector). Deeper values
and tensors are not differentiable (yet) and are refused by name.

``kernel(x, p, ctx) -> {output: Tensor}``

* ``x[name]``: float64 ``[E, n, B]`` for every declared input (zeros where no
  wire reaches it; ``E`` episodes run side by side, ``n`` active instances,
  ``B`` the basis). Variadic inputs: every input name some instance has a row
  of W for.
* ``p[name]``: float64 ``[E, n]`` for every numeric param (defaults merged,
  fields' param gains applied; may require grad). ``ctx.raw(name)`` lists a
  param's values as written (non-numeric params).
* ``ctx``: :class:`Context` (the basis, the less_or_equal surrogate, the step).
* It returns float64 ``[E, n, B]`` per output; a zero row is "no output". It
  must not change its inputs in place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

SURROGATES = ("straight_through", "sigmoid")


@dataclass
class Context:
    """What a kernel may need beside its inputs and params.

    ``basis``: the labels of the basis (``basis[0]`` is ``":number"``);
    ``surrogate``: how a step function passes gradients
    (``"straight_through"``: the forward value is exact, the gradient that
    of ``sigmoid(d / temperature)``; ``"sigmoid"``: the forward value is the
    sigmoid itself); ``t``: the step being computed (1-based);
    ``names``: the active instances' names; ``vector(v)``: a V-value as a
    ``[B]`` tensor; ``like``: zeros ``[E, n, B]``."""

    basis: Sequence[str]
    surrogate: str = "straight_through"
    temperature: float = 0.1
    t: int = 1
    names: Sequence[str] = ()
    raw_params: Callable[[str], list[Any]] | None = None
    vector: Callable[[Any], torch.Tensor] | None = None
    like: torch.Tensor | None = None  # zeros [E, n, B]: the shape of an output

    def raw(self, name: str) -> list[Any]:
        """The instances' values of param ``name`` as written (defaults merged)."""
        assert self.raw_params is not None
        return self.raw_params(name)

    def step(self, d: torch.Tensor) -> torch.Tensor:
        """``1.0 where d >= 0 else 0.0``, with the surrogate's gradient."""
        s = torch.sigmoid(d / self.temperature)
        if self.surrogate == "sigmoid":
            return s
        hard = (d >= 0).to(d.dtype)
        return hard + (s - s.detach())


Kernel = Callable[[Mapping[str, torch.Tensor], Mapping[str, torch.Tensor], Context], dict[str, torch.Tensor]]

__all__ = ["SURROGATES", "Context", "Kernel"]
