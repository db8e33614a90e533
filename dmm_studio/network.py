"""The network as designed: initial state ``y_0`` (which holds ``W_0``),
params, fields, layout and a little metadata.

This is the model that files load into, the canvas edits and engines start
from. Edits keep every value canonical and never mutate a V-value in place
(V-values are shared with running engines), and each edit announces what
changed on its own typed signal (``Network.events``, a psygnal
``SignalGroup``: Qt-free, the library napari uses for its models) so that
views can follow: a view connects one handler per signal it cares about and
disconnects when the document is replaced.

Every edit goes through a method here (weights, outputs, params, neurons,
positions, ports, probes): undo commands call these and never edit the
dicts or emit signals themselves.

Removing many neurons is linear in the size of the design: the model keeps
an index of the wires of each neuron (rebuilt lazily whenever W_0 was
replaced wholesale), ``set_weights`` applies a batch of weights in one
copy-on-write pass, and a neuron whose wires are already gone is removed
without walking W_0.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psygnal import Signal, SignalGroup

from . import vvalue as vv
from .designcheck import (
    check_layout_entry,
    check_name,
    check_output,
    check_param,
    check_weights,
    warn_undeclared,
)
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
    rename_references,
    self_accum_row,
    without_neuron,
)

if TYPE_CHECKING:
    from .machine import Machine
    from .registry import Registry

__all__ = [
    "NEURON_MODES",
    "SELF_ID",
    "Connections",
    "Network",
    "NetworkEvents",
    "Port",
    "neuron_key",
    "self_accum_row",
]

WireKey = tuple[Port, Port]

NEURON_MODES = ("mute", "bypass")
"""What a neuron's ``layout[...]["mode"]`` may say (docs/semantics.md, Mute and
bypass; ``dmm_studio.modes`` runs it): absent, the neuron runs as designed."""


class NetworkEvents(SignalGroup):
    """The changes a ``Network`` announces, one typed signal each (camelCase, as Qt).

    ``NeuronId`` is ``(type, name)``; ``Port`` is ``(type, name, port)``.
    """

    weightChanged = Signal(object, object, object, object)
    """(to: Port, frm: Port, old, new): one weight of W_0 (0 is no wire)."""
    outputChanged = Signal(object, str, object, object)
    """(neuron, output, old, new): an initial output (``{}`` is none)."""
    paramChanged = Signal(object, str, object, object)
    """(neuron, param, old, new): a param (new is None when the param was cleared)."""
    neuronAdded = Signal(object)
    """(neuron,): placed in the design."""
    neuronRemoved = Signal(object)
    """(neuron,): gone with its outputs, params and layout (its wires went first)."""
    neuronRenamed = Signal(str, str, str)
    """(type, old name, new name)."""
    neuronMoved = Signal(object, object)
    """(neuron, (x, y)): its place on the canvas."""
    portsChanged = Signal(object)
    """(neuron,): the ports a user added to a variadic neuron (``layout[...]["ports"]``)."""
    probesChanged = Signal()
    """The probes the design keeps (``layout[...]["probes"]``) changed."""
    modeChanged = Signal(object, object, object)
    """(neuron, old, new): muted or bypassed (``layout[...]["mode"]``; None: neither)."""


def neuron_key(type: str, name: str) -> str:
    """The key of a neuron in ``layout``: ``type/name``."""
    return f"{type}/{name}"


class Connections:
    """One handler per signal of a network's ``events``, moved as a whole from
    one network to the next: ``bind(net)`` disconnects every handler from the
    network bound before and connects it to ``net`` (a view calls it when its
    document's network is replaced, then redraws: clear, connect, fill).

    ``handlers``: ``{signal name: callable}``, names of ``NetworkEvents``;
    a wrong name raises AttributeError at once.
    """

    def __init__(self, handlers: Mapping[str, Callable[..., Any]]) -> None:
        for name in handlers:
            if not isinstance(getattr(NetworkEvents, name, None), Signal):
                raise AttributeError(f"a Network announces no {name!r}")
        self.handlers = dict(handlers)
        self.network: Network | None = None

    def bind(self, net: Network | None) -> None:
        if self.network is not None:
            for name, fn in self.handlers.items():
                getattr(self.network.events, name).disconnect(fn, missing_ok=True)
        self.network = net
        if net is not None:
            for name, fn in self.handlers.items():
                getattr(net.events, name).connect(fn)


@dataclass
class Network:
    outputs: State = field(default_factory=dict)
    params: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    fields: list[Any] = field(default_factory=list)
    layout: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    events: NetworkEvents = field(default_factory=NetworkEvents, repr=False, compare=False)
    _extra: dict[NeuronId, None] = field(default_factory=dict, repr=False, compare=False)
    # the wires of each neuron of W_0, valid while W_0 is _ix_src (see _index)
    _ix: dict[NeuronId, dict[WireKey, None]] = field(default_factory=dict, repr=False, compare=False)
    _ix_src: Any = field(default=None, repr=False, compare=False)
    # the file it was loaded from (None: built in code); its data files are
    # read relative to that file's folder (dmm_studio.datafiles)
    source: str | None = field(default=None, repr=False, compare=False)
    # the user allowed its data files outside that folder (asked by the studio;
    # never saved: a file cannot give itself this permission)
    allow_outside_files: bool = field(default=False, repr=False, compare=False)
    # bounds on the running size (dmm_studio.limits): only those that differ
    # from the defaults, as the file's "limits" holds them
    limits: dict[str, Any] = field(default_factory=dict)
    # the neuron types edits are checked against (None: the installed packs,
    # ``default_registry()``, as the loader's); never saved
    registry: Registry | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.outputs = canonical_state(self.outputs)

    def __getstate__(self) -> dict[str, Any]:
        # a copy sent to another process takes no listeners with it
        state = dict(self.__dict__)
        state["events"] = None
        state["_ix"], state["_ix_src"] = {}, None
        state["registry"] = None  # its neuron types may hold code that does not pickle
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.events = NetworkEvents()

    @classmethod
    def empty(cls) -> Network:
        """A network with only Self, holding its own accum row."""
        return cls(outputs={SELF_TYPE: {SELF_NAME: {MATRIX_OUTPUT: self_accum_row()}}})

    # ------------------------------------------------------------- reading
    @property
    def matrix(self) -> vv.VValue:
        """``W_0``."""
        return matrix_of(self.outputs)

    def _index(self) -> dict[NeuronId, dict[WireKey, None]]:
        """Neuron -> the keys of its wires in W_0 (every neuron of W_0 is a key,
        one held only by entries that are no wires too). Rebuilt in one pass
        when W_0 was replaced other than by ``set_weight(s)``."""
        w = self.matrix
        if self._ix_src is not w:
            ix: dict[NeuronId, dict[WireKey, None]] = {nid: {} for nid in matrix_neurons(w)}
            for to, frm, _x in matrix_wires(w):
                key = (to, frm)
                ix.setdefault(to[:2], {})[key] = None  # type: ignore[index]
                ix.setdefault(frm[:2], {})[key] = None  # type: ignore[index]
            self._ix, self._ix_src = ix, w
        return self._ix

    def neurons(self) -> list[NeuronId]:
        """Every neuron of the design: in W_0, holding an output, a param or a place."""
        found: dict[NeuronId, None] = {SELF_ID: None}
        found.update(dict.fromkeys(self._index()))
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
        """Whether the design has this neuron (anywhere ``neurons`` looks; O(1))."""
        nid = (type, name)
        return (
            nid == SELF_ID
            or nid in self._extra
            or name in self.outputs.get(type, ())
            or name in self.params.get(type, ())
            or neuron_key(type, name) in self.layout
            or nid in self._index()
        )

    def wires_of(self, type: str, name: str) -> list[tuple[Port, Port, Any]]:
        """The wires into and out of one neuron as (to, from, weight) (O(its wires))."""
        w = self.matrix
        out = []
        for to, frm in self._index().get((type, name), ()):
            x = vv.get_in(w, to + frm)
            if x is not None:
                out.append((to, frm, x))
        return out

    def layout_ports(self, type: str, name: str) -> dict[str, list[str]]:
        """The ports a user added to a variadic neuron: ``{"inputs": [...], "outputs": [...]}``."""
        entry = self.layout.get(neuron_key(type, name), {})
        ports = entry.get("ports", {}) if isinstance(entry, dict) else {}
        return {
            "inputs": [p for p in ports.get("inputs", []) if isinstance(p, str)],
            "outputs": [p for p in ports.get("outputs", []) if isinstance(p, str)],
        }

    def probes(self) -> dict[str, list[dict[str, Any]]]:
        """The probes the design keeps: ``{"type/name": [probe dicts]}`` (copies)."""
        return {
            k: copy.deepcopy(e["probes"])
            for k, e in self.layout.items()
            if isinstance(e, dict) and e.get("probes")
        }

    def layout_entry(self, type: str, name: str) -> dict[str, Any] | None:
        """A copy of a neuron's layout entry (place, ports, probes), or None."""
        entry = self.layout.get(neuron_key(type, name))
        return copy.deepcopy(entry) if entry is not None else None

    def mode(self, type: str, name: str) -> str | None:
        """``"mute"``, ``"bypass"`` or None (runs as designed): ``layout[...]["mode"]``."""
        entry = self.layout.get(neuron_key(type, name))
        m = entry.get("mode") if isinstance(entry, dict) else None
        return m if m in NEURON_MODES else None

    def modes(self) -> dict[NeuronId, str]:
        """Every muted or bypassed neuron: ``{(type, name): "mute" | "bypass"}``."""
        out: dict[NeuronId, str] = {}
        for key, entry in self.layout.items():
            m = entry.get("mode") if isinstance(entry, dict) else None
            f, _, n = key.partition("/")
            if m in NEURON_MODES and n:
                out[(f, n)] = m
        return out

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
    # Every edit refuses, before changing anything, what the loader would
    # refuse in the saved file (dmm_studio.designcheck): it raises EditError,
    # a NetworkFileError (so a ValueError) with one line naming the edit,
    # what is wrong and its JSON path.
    def _reg(self) -> Registry:
        if self.registry is not None:
            return self.registry
        from .registry import default_registry

        return default_registry()

    def set_matrix(self, w: Any) -> None:
        self.set_output(SELF_TYPE, SELF_NAME, MATRIX_OUTPUT, w)

    def set_weight(self, to: Port, frm: Port, weight: Any) -> None:
        """Set one weight of W_0 (0 removes the wire); ``weightChanged`` follows.
        Raises EditError (a ValueError) when ``weight`` is not a finite number
        or a port names an unknown type or a key no file holds."""
        self.set_weights([(to, frm, weight)])

    def set_weights(self, changes: Iterable[tuple[Port, Port, Any]]) -> None:
        """Set many weights of W_0 at once, ``[(to, from, weight)]`` (0 removes a
        wire): one copy-on-write pass over the paths they touch, then one
        ``weightChanged`` per weight that changed, in order. Raises EditError
        (a ValueError, before changing anything) when a weight is not a finite
        number or names what no file holds (see ``set_weight``)."""
        changes = list(changes)
        check_weights(self._reg(), changes)
        todo: dict[WireKey, Any] = {}
        for to, frm, x in changes:
            todo[(tuple(to), tuple(frm))] = x  # type: ignore[index]
        old_w = self.matrix
        ix = self._index()
        olds = {key: self.weight(*key) for key in todo}
        changed = [(key, x) for key, x in todo.items() if olds[key] != x]
        if not changed:
            return
        w = _set_weights(old_w, [(key[0] + key[1], x) for key, x in changed])
        self._store(SELF_TYPE, SELF_NAME, MATRIX_OUTPUT, w)
        for key, x in changed:
            to, frm = key
            if x:
                ix.setdefault(to[:2], {})[key] = None  # type: ignore[index]
                ix.setdefault(frm[:2], {})[key] = None  # type: ignore[index]
            else:
                for nid in (to[:2], frm[:2]):
                    wires = ix.get(nid)  # type: ignore[call-overload]
                    if wires is not None:
                        wires.pop(key, None)
                        if not wires:
                            del ix[nid]  # type: ignore[arg-type]
        self._ix_src = self.matrix
        # a wire to or from a port the type does not declare is kept, and said
        new_wires: dict[str, Any] = {}
        for (to, frm), x in changed:
            if x:
                row = new_wires.setdefault(to[0], {}).setdefault(to[1], {}).setdefault(to[2], {})
                row.setdefault(frm[0], {}).setdefault(frm[1], {})[frm[2]] = x
        warn_undeclared(new_wires, self._reg(), 2)
        for key, x in changed:
            self.events.weightChanged.emit(key[0], key[1], olds[key], x)

    def set_output(self, type: str, name: str, output: str, value: Any) -> None:
        """Set a neuron's initial output (``{}`` clears it); ``outputChanged`` follows.
        Raises EditError (a ValueError) for an unknown type or a value no file
        holds (non-finite numbers, reserved keys, a matrix of unknown types)."""
        value = check_output(self._reg(), type, name, output, value)
        old = self.output(type, name, output)
        self._store(type, name, output, value)
        self.events.outputChanged.emit((type, name), output, old, self.output(type, name, output))

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
        """Set a param; ``paramChanged`` follows. The value is kept as a file
        holds it (JSON data: a tuple becomes a list). Raises EditError (a
        ValueError) for an unknown type, a param the type does not declare,
        or a value that is not finite JSON data."""
        value = check_param(self._reg(), type, name, param, value)
        old = self.param(type, name, param)
        self.params.setdefault(type, {}).setdefault(name, {})[param] = value
        self.events.paramChanged.emit((type, name), param, old, value)

    def clear_param(self, type: str, name: str, param: str) -> None:
        """Forget a param (the neuron's type default applies); ``paramChanged`` with new None."""
        mine = self.params.get(type, {}).get(name, {})
        if param not in mine:
            return
        old = mine.pop(param)
        if not mine:
            del self.params[type][name]
            if not self.params[type]:
                del self.params[type]
        self.events.paramChanged.emit((type, name), param, old, None)

    def set_pos(self, type: str, name: str, pos: tuple[float, float]) -> None:
        """Place a neuron on the canvas; ``neuronMoved`` follows."""
        check_layout_entry(self._reg(), type, name, {"pos": list(pos)})
        xy = (float(pos[0]), float(pos[1]))
        self.layout.setdefault(neuron_key(type, name), {})["pos"] = list(xy)
        self.events.neuronMoved.emit((type, name), xy)

    def set_ports(self, type: str, name: str, ports: Mapping[str, Iterable[str]]) -> None:
        """The ports a user added to a variadic neuron (``{"inputs": [...], "outputs": [...]}``,
        empty sides dropped); ``portsChanged`` follows."""
        key = neuron_key(type, name)
        kept = {k: list(v) for k, v in ports.items() if v}
        check_layout_entry(self._reg(), type, name, {"ports": kept})
        entry = self.layout.get(key)
        if kept:
            self.layout.setdefault(key, {})["ports"] = kept
        elif isinstance(entry, dict) and "ports" in entry:
            del entry["ports"]
            if not entry:
                del self.layout[key]
        self.events.portsChanged.emit((type, name))

    def set_probes(self, probes: Mapping[str, list[dict[str, Any]]]) -> None:
        """The probes the design keeps, all at once: ``{"type/name": [probe dicts]}``
        (a key left out has none; an entry that only held probes goes);
        ``probesChanged`` follows."""
        for key, ps in probes.items():
            f, _, n = str(key).partition("/")
            check_layout_entry(self._reg(), f, n, {"probes": ps})
        layout = self.layout
        for key in list(layout):
            entry = layout[key]
            if isinstance(entry, dict) and "probes" in entry and key not in probes:
                del entry["probes"]
                if not entry:
                    del layout[key]
        for key, ps in probes.items():
            entry = layout.setdefault(key, {})
            if isinstance(entry, dict):
                entry["probes"] = copy.deepcopy(ps)
        self.events.probesChanged.emit()

    def set_mode(self, type: str, name: str, mode: str | None) -> None:
        """Mute (``"mute"``), bypass (``"bypass"``) or restore (None) a neuron;
        ``modeChanged`` follows. The design keeps it in ``layout[...]["mode"]``.
        Raises ValueError for Self (it holds the matrix) or another mode,
        EditError for an unknown type."""
        if mode is not None and mode not in NEURON_MODES:
            raise ValueError(f"a neuron's mode is 'mute', 'bypass' or None, not {mode!r}")
        if (type, name) == SELF_ID:
            raise ValueError("Self cannot be muted or bypassed: it holds the network matrix")
        check_layout_entry(self._reg(), type, name, {"mode": mode} if mode else {})
        old = self.mode(type, name)
        if old == mode:
            return
        key = neuron_key(type, name)
        if mode is not None:
            self.layout.setdefault(key, {})["mode"] = mode
        else:
            entry = self.layout.get(key)
            if isinstance(entry, dict):
                entry.pop("mode", None)
                if not entry:
                    del self.layout[key]
        self.events.modeChanged.emit((type, name), old, mode)

    def set_layout_entry(self, type: str, name: str, entry: Mapping[str, Any] | None) -> None:
        """Replace a neuron's whole layout entry (place, ports, probes; None: none),
        as undo puts one back; the signals of what changed follow."""
        key = neuron_key(type, name)
        if entry:
            check_layout_entry(self._reg(), type, name, entry)
        before = self.layout.get(key) or {}
        if entry:
            self.layout[key] = copy.deepcopy(dict(entry))
        else:
            self.layout.pop(key, None)
        after = self.layout.get(key) or {}
        nid = (type, name)
        if before.get("pos") != after.get("pos") and after.get("pos") is not None:
            self.events.neuronMoved.emit(nid, tuple(float(c) for c in after["pos"]))
        if before.get("ports") != after.get("ports"):
            self.events.portsChanged.emit(nid)
        if before.get("probes") != after.get("probes"):
            self.events.probesChanged.emit()
        if before.get("mode") != after.get("mode"):
            self.events.modeChanged.emit(nid, before.get("mode"), after.get("mode"))

    def add_neuron(self, type: str, name: str, pos: tuple[float, float] | None = None) -> None:
        """Place a neuron in the design (it is active once wired); ``neuronAdded``
        follows. Raises ValueError when the design already has ``type/name``,
        EditError (a ValueError) for an unknown type or a name no file holds
        (empty, a reserved ``:`` key)."""
        check_name(self._reg(), type, name)
        if pos is not None:
            check_layout_entry(self._reg(), type, name, {"pos": list(pos)})
        if self.has_neuron(type, name):
            raise ValueError(f"there is already a neuron {type}/{name}")
        self._extra[(type, name)] = None
        if pos is not None:
            self.layout.setdefault(neuron_key(type, name), {})["pos"] = [float(pos[0]), float(pos[1])]
        self.events.neuronAdded.emit((type, name))

    def remove_neuron(self, type: str, name: str) -> None:
        """Remove a neuron with its wires, outputs, params and place (not Self);
        ``weightChanged`` for each wire, then ``neuronRemoved``. Costs O(its wires)
        when W_0 holds it only in wires (the usual case), one pass over W_0 else.
        Raises ValueError for Self."""
        if (type, name) == SELF_ID:
            raise ValueError("Self cannot be removed: it holds the network matrix")
        wires = self.wires_of(type, name)
        if wires:
            self.set_weights([(to, frm, 0) for to, frm, _x in wires])
        w = self.matrix
        rows = w.get(type)
        if (type, name) in self._index() or (isinstance(rows, dict) and name in rows):
            # held by entries that are no wires
            self._store(SELF_TYPE, SELF_NAME, MATRIX_OUTPUT, without_neuron(w, (type, name)))
        self.outputs.get(type, {}).pop(name, None)
        if type in self.outputs and not self.outputs[type]:
            del self.outputs[type]
        self.params.get(type, {}).pop(name, None)
        if type in self.params and not self.params[type]:
            del self.params[type]
        self.layout.pop(neuron_key(type, name), None)
        self._extra.pop((type, name), None)
        self.events.neuronRemoved.emit((type, name))

    def rename_neuron(
        self, type: str, old: str, new: str, references: bool = True
    ) -> list[tuple[str, NeuronId, str, Any, Any]]:
        """Rename a neuron everywhere it appears (names are unique per type):
        its outputs, params, layout, its rows and columns in W, and (with
        ``references``) the references to it in other values: matrix
        fragments held as outputs or params (what feeds Self's delta, a
        ``matrix.patch`` fragment) and ``"type/name/port"`` params
        (``matrix.summary``'s row). Returns those reference changes,
        ``[("output" | "param", neuron, key, before, after)]`` (what
        ``restore_references`` puts back); ``outputChanged``/``paramChanged``
        follow ``neuronRenamed`` for each. Raises ValueError for Self or a
        name taken, EditError (a ValueError) for a name no file holds (empty,
        a reserved ``:`` key)."""
        if (type, old) == SELF_ID:
            raise ValueError("Self cannot be renamed")
        if old == new:
            return []
        check_name(self._reg(), type, new)
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
        changes = self._rename_references(type, old, new) if references else []
        self.events.neuronRenamed.emit(type, old, new)
        self._announce(changes, after=True)
        return changes

    def _rename_references(self, type: str, old: str, new: str) -> list[tuple[str, NeuronId, str, Any, Any]]:
        changes: list[tuple[str, NeuronId, str, Any, Any]] = []
        for f, names in self.outputs.items():
            for n, outs in names.items():
                for o, v in outs.items():
                    if (f, n, o) == (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT):
                        continue
                    r = rename_references(v, type, old, new)
                    if r is not v:
                        changes.append(("output", (f, n), o, v, vv.canon(r)))
        for f, names in self.params.items():
            for n, ps in names.items():
                for p, v in ps.items():
                    r = rename_references(v, type, old, new)
                    if r is not v:
                        changes.append(("param", (f, n), p, v, r))
        for kind, (f, n), k, _, after in changes:
            if kind == "output":
                self.outputs[f][n][k] = after
            else:
                self.params[f][n][k] = after
        return changes

    def restore_references(self, changes: list[tuple[str, NeuronId, str, Any, Any]]) -> None:
        """Put back the values ``rename_neuron`` changed (``changes``, its
        return; neuron names as they are now): the undo of a rename, after
        the neuron got its old name back with ``references=False``."""
        for kind, (f, n), k, before, _ in changes:
            table = self.outputs if kind == "output" else self.params
            table.setdefault(f, {}).setdefault(n, {})[k] = before
        self._announce(changes, after=False)

    def _announce(self, changes: list[tuple[str, NeuronId, str, Any, Any]], after: bool) -> None:
        for kind, nid, k, before, now in changes:
            old_v, new_v = (before, now) if after else (now, before)
            if kind == "output":
                self.events.outputChanged.emit(nid, k, old_v, new_v)
            else:
                self.events.paramChanged.emit(nid, k, old_v, new_v)

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
        net.allow_outside_files = self.allow_outside_files
        net.limits = dict(self.limits)
        net.registry = self.registry
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


def _set_weights(w: Mapping[str, Any], changes: list[tuple[tuple[str, ...], Any]]) -> vv.VValue:
    """A copy of the canonical matrix ``w`` with each ``(path, weight)`` set
    (0 removes it, pruning parents left empty): each dict along the paths is
    copied once, however many changes pass through it; ``w`` is not changed."""
    root: dict[str, Any] = dict(w)
    mine: dict[int, dict[str, Any]] = {id(root): root}  # the dicts this call made
    for path, x in changes:
        leaf = vv.canon(x).get(vv.NUMBER) if x else None  # a number, None for 0
        trail: list[dict[str, Any]] = [root]
        node = root
        for k in path[:-1]:
            child = node.get(k)
            if child is None:
                if leaf is None:
                    break  # nothing to remove
                child = {}
            elif not isinstance(child, dict):
                child = {vv.TENSOR if vv.is_tensor(child) else vv.NUMBER: child}
            elif id(child) not in mine:
                child = dict(child)
            mine[id(child)] = child
            node[k] = child
            trail.append(child)
            node = child
        else:
            if leaf is None:
                node.pop(path[-1], None)
            else:
                node[path[-1]] = leaf
            # back up the path: an emptied dict goes, a lone ':number' is the bare number
            for depth in range(len(trail) - 1, 0, -1):
                d = trail[depth]
                u = d if len(d) > 1 else (d.get(vv.NUMBER, d.get(vv.TENSOR)) if d else None)
                if u is d or (u is None and d and vv.NUMBER not in d and vv.TENSOR not in d):
                    break
                parent = trail[depth - 1]
                if u is None:
                    parent.pop(path[depth - 1], None)
                else:
                    parent[path[depth - 1]] = u
                    break
    return root
