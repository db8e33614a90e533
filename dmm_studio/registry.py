"""Neuron types: declarations, the registry, and discovery of neuron packs.

A neuron type declares its inputs, outputs (either may be variadic), params
with defaults, and its function ``fn(x, p) -> {output: V-value}`` where ``x``
maps every input name to a V-value (``{}`` when nothing reaches it) and ``p``
maps every param to its value. The metadata is plain data, readable without
calling the function.

Neuron packs (the built-ins in ``nodes/`` among them) are found through the
entry-point group ``dmm_studio.neurons``: each entry point names a callable
that returns an iterable of ``NeuronType``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, TextIO

from .matrix import SELF_NAME, SELF_TYPE  # noqa: F401 (SELF_NAME: importable from here too)
from .vvalue import VValue, add_canonical

ENTRY_POINT_GROUP = "dmm_studio.neurons"

NeuronFn = Callable[[Mapping[str, VValue], Mapping[str, Any]], Mapping[str, VValue]]

_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z_][A-Za-z0-9_\-]*)*$")


class RegistryError(ValueError):
    """A neuron type is declared wrongly, twice, or is unknown."""


@dataclass(frozen=True)
class NeuronType:
    """One neuron type: what it reads, what it emits, its params and function.

    ``id`` is namespaced with dots (``mypack.sin``); the built-ins of SPEC §5
    have bare ids. ``mirror`` types (identity) have one output per input, of
    the same name. ``batched``, when given, computes every instance of the
    type at once for the compiled engine; its protocol (``batched(x: Batch,
    params: ParamTable) -> {output: Column} | None``, None meaning "call fn
    per instance") is documented in ``dmm_studio/engine/_batched.py``.
    ``differentiable``, when given, is the type's autograd-safe kernel for
    training (``dmm_studio.learn``; protocol in ``dmm_studio/learn/kernels.py``);
    a type without one cannot be part of a differentiable run.
    """

    id: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    fn: NeuronFn = field(compare=False, repr=False)
    params: Mapping[str, Any] = field(default_factory=dict)
    variadic_inputs: bool = False
    variadic_outputs: bool = False
    mirror: bool = False
    family: str = "misc"
    doc: str = ""
    batched: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    # autograd-safe kernel for training (protocol: dmm_studio/learn/kernels.py); None: not differentiable
    differentiable: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.id):
            raise RegistryError(f"neuron type id {self.id!r} is not a dotted name")
        for kind, names in (("input", self.inputs), ("output", self.outputs)):
            if len(set(names)) != len(names):
                raise RegistryError(f"neuron type {self.id!r} declares an {kind} twice")
            for n in names:
                if not isinstance(n, str) or not n or n.startswith(":"):
                    raise RegistryError(f"neuron type {self.id!r}: bad {kind} name {n!r}")

    @property
    def namespace(self) -> str:
        return self.id.rpartition(".")[0]

    def has_input(self, name: str) -> bool:
        return self.variadic_inputs or name in self.inputs

    def has_output(self, name: str) -> bool:
        return self.variadic_outputs or name in self.outputs

    def call(self, x: Mapping[str, VValue], params: Mapping[str, Any] | None = None) -> Mapping[str, VValue]:
        """Run the function with missing inputs as {} and params over their defaults."""
        full = {name: x.get(name, {}) for name in self.inputs}
        if self.variadic_inputs:
            full.update(x)
        p = dict(self.params)
        if params:
            p.update(params)
        return self.fn(full, p)


def neuron(
    id: str,
    *,
    inputs: Iterable[str] = (),
    outputs: Iterable[str] = (),
    params: Mapping[str, Any] | None = None,
    variadic_inputs: bool = False,
    variadic_outputs: bool = False,
    mirror: bool = False,
    family: str = "misc",
    batched: Callable[..., Any] | None = None,
    differentiable: Callable[..., Any] | None = None,
) -> Callable[[NeuronFn], NeuronType]:
    """Declare a neuron type from its function; the docstring is its doc."""

    def wrap(fn: NeuronFn) -> NeuronType:
        return NeuronType(
            id=id,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            fn=fn,
            params=dict(params or {}),
            variadic_inputs=variadic_inputs,
            variadic_outputs=variadic_outputs,
            mirror=mirror,
            family=family,
            doc=(fn.__doc__ or "").strip(),
            batched=batched,
            differentiable=differentiable,
        )

    return wrap


@neuron(SELF_TYPE, inputs=["accum", "delta"], outputs=["network_matrix"], family="core")
def self_neuron(x: Mapping[str, VValue], p: Mapping[str, Any]) -> dict[str, VValue]:
    """Self: holds the network matrix, network_matrix = accum + delta."""
    return {"network_matrix": add_canonical(x["accum"], x["delta"])}


class Registry:
    """The neuron types known to a session, by id."""

    def __init__(self, types: Iterable[NeuronType] = ()) -> None:
        self._types: dict[str, NeuronType] = {}
        self.packs: dict[str, list[str]] = {}  # pack (entry point) name: the type ids it gave
        self.skipped: dict[str, str] = {}  # pack: why it was skipped (see load_packs)
        self.skipped_values: dict[str, str] = {}  # pack: its entry point ("module:function")
        for t in types:
            self.register(t)

    def register(self, t: NeuronType) -> NeuronType:
        if not isinstance(t, NeuronType):
            raise RegistryError(f"{t!r} is not a NeuronType")
        if t.id in self._types:
            raise RegistryError(f"neuron type {t.id!r} is registered twice")
        self._types[t.id] = t
        return t

    def get(self, id: str) -> NeuronType:
        try:
            return self._types[id]
        except KeyError:
            raise RegistryError(f"unknown neuron type {id!r}{self.missing_hint(id)}") from None

    def missing_hint(self, id: str) -> str:
        """Which pack would provide an unknown type: `` (the pack 'p' that
        would provide it was skipped: why)`` when a skipped pack's name or
        module matches the type's namespace, else `` (no installed pack
        provides it)`` ("" when the type is known)."""
        if id in self._types:
            return ""
        ns = id.split(".")[0]
        for pack, why in self.skipped.items():
            module = self.skipped_values.get(pack, "").split(":")[0].split(".")[0]
            if ns and ns in (pack, module):
                return f" (the neuron pack {pack!r} that would provide it was skipped: {why})"
        if "." in id:
            return f" (no installed neuron pack provides it: install the pack of namespace {ns!r})"
        return " (no installed neuron pack provides it)"

    def __contains__(self, id: object) -> bool:
        return id in self._types

    def __iter__(self) -> Any:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def ids(self) -> list[str]:
        return sorted(self._types)

    def families(self) -> dict[str, list[NeuronType]]:
        out: dict[str, list[NeuronType]] = {}
        for t in sorted(self._types.values(), key=lambda t: t.id):
            out.setdefault(t.family, []).append(t)
        return out


def load_packs(registry: Registry, err: TextIO | None = None) -> None:
    """Register every neuron pack found in the ``dmm_studio.neurons`` group.

    The built-in pack (``dmm_studio_nodes``) arrives this way too, through the
    entry point ``builtin`` that the project's own metadata declares: the core
    never imports it (an import-linter contract in pyproject.toml).

    A pack that fails (its import raises, its entry point raises or calls
    ``sys.exit``, it returns something that is not an iterable of
    ``NeuronType``, or it declares a type id that is already registered) is
    skipped whole, with one line on ``err`` (stderr) naming it and why; it is
    kept in ``registry.skipped`` (``{pack: reason}``) for the studio to list
    and for ``Registry.get`` to name when a network uses one of its types.
    """
    err = err if err is not None else sys.stderr
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        pack = ep.name
        try:
            types = _pack_types(ep)
            ids = [t.id for t in types]
            for i, tid in enumerate(ids):
                if tid in registry or tid in ids[:i]:
                    raise RegistryError(f"it declares the neuron type {tid!r}, which is already registered")
        except (Exception, SystemExit) as e:
            reason = str(e) if isinstance(e, RegistryError) else f"{type(e).__name__}: {e}"
            registry.skipped[pack] = reason
            registry.skipped_values[pack] = ep.value
            err.write(f"dmm-studio: neuron pack {pack!r} ({ep.value}) skipped: {reason}\n")
            continue
        for t in types:
            registry.register(t)
        registry.packs[pack] = [t.id for t in types]


def _pack_types(ep: Any) -> list[NeuronType]:
    """The neuron types an entry point gives, checked (RegistryError if junk)."""
    fn = ep.load()
    if not callable(fn):
        raise RegistryError(
            f"its entry point is {type(fn).__name__}, not a function that returns neuron types"
        )
    got = fn()
    if isinstance(got, (str, bytes, Mapping)) or not isinstance(got, Iterable):
        raise RegistryError(f"its entry point returned {type(got).__name__}, not an iterable of NeuronType")
    types = list(got)
    for t in types:
        if not isinstance(t, NeuronType):
            raise RegistryError(f"its entry point returned {t!r} among its types, not a NeuronType")
    return types


_default: Registry | None = None


def default_registry() -> Registry:
    """Self plus every installed neuron pack (built once, then shared)."""
    global _default
    if _default is None:
        reg = Registry([self_neuron])
        load_packs(reg)
        _default = reg
    return _default
