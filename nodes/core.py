"""The built-in types that SPEC §5 defines: identity, accum, max_norm,
less_or_equal, mult_mask."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dmm_studio import vvalue as vv
from dmm_studio.registry import neuron

from ._util import grad_kernel

V = vv.VValue
P = Mapping[str, Any]


def _batched(name: str) -> Any:
    """The batched form ``name`` of ``_kernels`` (imported on the first call:
    it needs torch, which loading the registry does not)."""

    found: list[Any] = []

    def kernel(x: Any, params: Any) -> Any:
        if not found:
            from . import _kernels

            found.append(getattr(_kernels, name))
        return found[0](x, params)

    kernel.__name__ = kernel.__qualname__ = f"{name}_batched"
    return kernel


@neuron(
    "identity",
    inputs=["single"],
    outputs=["single"],
    variadic_inputs=True,
    variadic_outputs=True,
    mirror=True,
    family="core",
    batched=_batched("identity"),
    differentiable=grad_kernel("identity"),
)
def identity(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Each input is passed to the output of the same name. Wired to itself
    with weight 1 it is a constant (or a register)."""
    return dict(x)


@neuron("accum", inputs=["accum", "delta"], outputs=["single"], family="core", batched=_batched("accum"),
         differentiable=grad_kernel("accum"))
def accum(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Accumulator: single = accum + delta (wire single back to accum with 1)."""
    return {"single": vv.add_canonical(x["accum"], x["delta"])}


@neuron("max_norm", inputs=["in"], outputs=["norm"], family="core", batched=_batched("max_norm"),
         differentiable=grad_kernel("max_norm"))
def max_norm(x: Mapping[str, V], p: P) -> dict[str, V]:
    """The largest absolute leaf of the input, as a scalar."""
    return {"norm": {vv.NUMBER: vv.max_norm(x["in"])}}


@neuron(
    "less_or_equal",
    inputs=["left", "right"],
    outputs=["true", "false"],
    family="core",
    batched=_batched("less_or_equal"),
    differentiable=grad_kernel("less_or_equal"),
)
def less_or_equal(x: Mapping[str, V], p: P) -> dict[str, V]:
    """true = 1, false = 0 when right - left has no negative leaf; else the reverse."""
    diff = vv.add(x["right"], vv.scale(-1, x["left"]))
    le = not vv.has_negative_leaf(diff)
    return {"true": {vv.NUMBER: 1 if le else 0}, "false": {vv.NUMBER: 0 if le else 1}}


@neuron(
    "mult_mask", inputs=["mask", "main"], outputs=["single"], family="core", batched=_batched("mult_mask"),
    differentiable=grad_kernel("mult_mask"),
)
def mult_mask(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Fuzzy if: main seen through mask (a mask leaf scales the subtree under it)."""
    return {"single": vv.mult_mask(x["mask"], x["main"])}


TYPES = [identity, accum, max_norm, less_or_equal, mult_mask]
