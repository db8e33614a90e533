"""The network as designed: initial state ``y_0`` (which holds ``W_0``),
params, fields, layout and a little metadata.

This is the model that files load into, the canvas edits and engines start
from. Edits keep every value canonical and never mutate a V-value in place
(V-values are shared with running engines), and each edit tells subscribers
what changed so that views can follow.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import vvalue as vv
from .matrix import (
    MATRIX_OUTPUT,
    SELF_ID,
    SELF_NAME,
    SELF_TYPE,
    NeuronId,
    Port,
    State,
    canonical_state,
    matrix_neurons,
    matrix_of,
    matrix_wires,
    rename_in_matrix,
    self_accum_row,
    without_neuron,
)

if TYPE_CHECKING:
    from .machine import Machine
    from .registry import Registry

__all__ = ["SELF_ID", "Network", "Port", "neuron_key", "self_accum_row"]

Listener = Callable[[str, dict[str, Any]], None]


def neuron_key(type: str, name: str) -> str:
    """The key of a neuron in ``layout``: ``type/name``."""
    return f"{type}/{name}"


@dataclass
class Network:
    outputs: State = field(default_factory=dict)
    params: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    fields: list[Any] = field(default_factory=list)
    layout: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    _listeners: list[Listener] = field(default_factory=list, repr=False, compare=False)
    _extra: dict[NeuronId, None] = field(default_factory=dict, repr=False, compare=False)
    # the file it was loaded from (None: built in code); its data files are
    # read relative to that file's folder (dmm_studio.datafiles)
    source: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.outputs = canonical_state(self.outputs)

    @classmethod
    def empty(cls) -> Network:
        """A network with only Self, holding its own accum row."""
        return cls(outputs={SELF_TYPE: {SELF_NAME: {MATRIX_OUTPUT: self_accum_row()}}})

    # ------------------------------------------------------------- reading
    @property
    def matrix(self) -> vv.VValue:
        """``W_0``."""
        return matrix_of(self.outputs)

    def neurons(self) -> list[NeuronId]:
        """Every neuron of the design: in W_0, holding an output, a param or a place."""
        found: dict[NeuronId, None] = {SELF_ID: None}
        found.update(matrix_neurons(self.matrix))
        for table in (self.outputs, self.params):
            for f, names in table.items():
                for n in names:
                    found[(f, n)] = None
        for key in self.layout:
            f, _, n = key.partition("/")
            if n:
                found[(f, n)] = None
        found.update(self._extra)
        return list(found)

    def has_neuron(self, type: str, name: str) -> bool:
        return (type, name) in self.neurons()

    def weight(self, to: Port, frm: Port) -> Any:
        w = vv.get_in(self.matrix, to + frm)
        return 0 if w is None else w

    def wires(self) -> Iterator[tuple[Port, Port, Any]]:
        """Every weight of W_0 as (to, from, weight)."""
        return matrix_wires(self.matrix)

    def output(self, type: str, name: str, output: str) -> vv.VValue:
        v = vv.get_in(self.outputs, (type, name, output))
        return v if v else {}

    def param(self, type: str, name: str, param: str, default: Any = None) -> Any:
        return self.params.get(type, {}).get(name, {}).get(param, default)

    # ------------------------------------------------------------- editing
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event, info)`` after each edit; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: str, **info: Any) -> None:
        for listener in list(self._listeners):
            listener(event, info)

    def set_matrix(self, w: Any) -> None:
        self.set_output(SELF_TYPE, SELF_NAME, MATRIX_OUTPUT, w)

    def set_weight(self, to: Port, frm: Port, weight: Any) -> None:
        """Set one weight of W_0 (0 removes the wire)."""
        if not vv.is_number(weight):
            raise ValueError(f"a weight must be a number, not {weight!r}")
        old = self.weight(to, frm)
        self.outputs.setdefault(SELF_TYPE, {}).setdefault(SELF_NAME, {})
        w = vv.set_in(self.matrix, to + frm, weight)
        self._store(SELF_TYPE, SELF_NAME, MATRIX_OUTPUT, w)
        self._emit("weight", to=to, frm=frm, old=old, new=weight)

    def set_output(self, type: str, name: str, output: str, value: Any) -> None:
        """Set a neuron's initial output (``{}`` clears it)."""
        old = self.output(type, name, output)
        self._store(type, name, output, vv.canon(value))
        self._emit("output", neuron=(type, name), output=output, old=old, new=self.output(type, name, output))

    def _store(self, type: str, name: str, output: str, value: vv.VValue) -> None:
        outs = self.outputs.setdefault(type, {}).setdefault(name, {})
        if value:
            outs[output] = value
        else:
            outs.pop(output, None)
            if not outs:
                del self.outputs[type][name]
                if not self.outputs[type]:
                    del self.outputs[type]

    def set_param(self, type: str, name: str, param: str, value: Any) -> None:
        old = self.param(type, name, param)
        self.params.setdefault(type, {}).setdefault(name, {})[param] = value
        self._emit("param", neuron=(type, name), param=param, old=old, new=value)

    def set_pos(self, type: str, name: str, pos: tuple[float, float]) -> None:
        self.layout.setdefault(neuron_key(type, name), {})["pos"] = [float(pos[0]), float(pos[1])]
        self._emit("layout", neuron=(type, name), pos=pos)

    def add_neuron(self, type: str, name: str, pos: tuple[float, float] | None = None) -> None:
        """Place a neuron in the design (it is active once wired)."""
        if self.has_neuron(type, name):
            raise ValueError(f"there is already a neuron {type}/{name}")
        self._extra[(type, name)] = None
        if pos is not None:
            self.layout.setdefault(neuron_key(type, name), {})["pos"] = [float(pos[0]), float(pos[1])]
        self._emit("neuron_added", neuron=(type, name))

    def remove_neuron(self, type: str, name: str) -> None:
        """Remove a neuron with its wires, outputs, params and place (not Self)."""
        if (type, name) == SELF_ID:
            raise ValueError("Self cannot be removed: it holds the network matrix")
        w = without_neuron(self.matrix, (type, name))
        self._store(SELF_TYPE, SELF_NAME, MATRIX_OUTPUT, w)
        self.outputs.get(type, {}).pop(name, None)
        if type in self.outputs and not self.outputs[type]:
            del self.outputs[type]
        self.params.get(type, {}).pop(name, None)
        if type in self.params and not self.params[type]:
            del self.params[type]
        self.layout.pop(neuron_key(type, name), None)
        self._extra.pop((type, name), None)
        self._emit("neuron_removed", neuron=(type, name))

    def rename_neuron(self, type: str, old: str, new: str) -> None:
        """Rename a neuron everywhere it appears (names are unique per type)."""
        if (type, old) == SELF_ID:
            raise ValueError("Self cannot be renamed")
        if old == new:
            return
        if self.has_neuron(type, new):
            raise ValueError(f"there is already a neuron {type}/{new}")
        w = rename_in_matrix(self.matrix, type, old, new)
        self._store(SELF_TYPE, SELF_NAME, MATRIX_OUTPUT, w)
        for table in (self.outputs, self.params):
            if old in table.get(type, {}):
                table[type][new] = table[type].pop(old)
        key = neuron_key(type, old)
        if key in self.layout:
            self.layout[neuron_key(type, new)] = self.layout.pop(key)
        if (type, old) in self._extra:
            del self._extra[(type, old)]
            self._extra[(type, new)] = None
        self._emit("neuron_renamed", type=type, old=old, new=new)

    # ------------------------------------------------------------- the rest
    @classmethod
    def load(cls, path: Any, registry: Registry | None = None) -> Network:
        """Read a ``*.dmm.json`` file (see ``fileformat.load_network``)."""
        from .fileformat import load_network

        return load_network(path, registry)

    def save(self, path: Any) -> None:
        """Write a ``*.dmm.json`` file atomically."""
        from .fileformat import save_network

        save_network(self, path)

    def copy(self) -> Network:
        net = Network(
            outputs={f: {n: dict(o) for n, o in ns.items()} for f, ns in self.outputs.items()},
            params=copy.deepcopy(self.params),
            fields=copy.deepcopy(self.fields),
            layout=copy.deepcopy(self.layout),
            meta=copy.deepcopy(self.meta),
        )
        net._extra = dict(self._extra)
        net.source = self.source
        return net

    def machine(self, engine: str | None = None, registry: Registry | None = None, **kwargs: Any) -> Machine:
        """A running copy of this network (see ``Machine``)."""
        from .machine import Machine

        return Machine(self, engine=engine, registry=registry, **kwargs)

    def validate(self, registry: Registry | None = None) -> None:
        """Raise ValueError naming the first neuron whose type is unknown."""
        from .registry import default_registry

        reg = registry or default_registry()
        for f, n in self.neurons():
            if f not in reg:
                raise ValueError(f"neuron {f}/{n} has the unknown type {f!r}")
