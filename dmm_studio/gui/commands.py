"""Every edit of the design as an undoable command over the Network model.

The canvas never changes itself: a user gesture becomes one of these
commands, pushed on the document's ``QUndoStack``; ``redo``/``undo`` call
``Network`` methods, and the canvas follows the model's ``subscribe`` events.
Ports that the user adds to a variadic neuron are kept in the layout
(``layout["type/name"]["ports"] = {"inputs": [...], "outputs": [...]}``) so
that a saved file keeps them; the document's ``ports_changed`` signal tells
the canvas.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from .. import vvalue as vv
from ..network import Network, Port, neuron_key
from .model_ops import layout_ports

if TYPE_CHECKING:
    from .document import Document

NeuronId = tuple[str, str]


class DocCommand(QUndoCommand):
    def __init__(self, doc: Document, text: str) -> None:
        super().__init__(text)
        self.doc = doc

    @property
    def net(self) -> Network:
        return self.doc.network


class SetWeight(DocCommand):
    """One weight of W_0 (0 removes the wire)."""

    def __init__(self, doc: Document, to: Port, frm: Port, weight: float, text: str | None = None) -> None:
        super().__init__(doc, text or f"weight {frm[1]}.{frm[2]} -> {to[1]}.{to[2]} = {weight:g}")
        self.to, self.frm, self.new = tuple(to), tuple(frm), weight
        self.old = doc.network.weight(self.to, self.frm)

    def redo(self) -> None:
        self.net.set_weight(self.to, self.frm, self.new)

    def undo(self) -> None:
        self.net.set_weight(self.to, self.frm, self.old)


class _NeuronRecord:
    """All that a neuron holds in the design, to remove it and bring it back."""

    def __init__(self, net: Network, nid: NeuronId) -> None:
        f, n = nid
        self.nid = nid
        self.outputs = dict(net.outputs.get(f, {}).get(n, {}))
        self.params = copy.deepcopy(net.params.get(f, {}).get(n, {}))
        self.layout = copy.deepcopy(net.layout.get(neuron_key(f, n)))
        self.wires = [(to, frm, w) for to, frm, w in net.wires() if to[:2] == nid or frm[:2] == nid]

    def restore(self, net: Network) -> None:
        f, n = self.nid
        pos = tuple(self.layout["pos"]) if self.layout and "pos" in self.layout else None
        net.add_neuron(f, n, pos)  # type: ignore[arg-type]
        if self.layout:
            net.layout[neuron_key(f, n)] = copy.deepcopy(self.layout)
        for o, v in self.outputs.items():
            net.set_output(f, n, o, v)
        for p, v in self.params.items():
            net.set_param(f, n, p, v)


class AddNeurons(DocCommand):
    """Place neurons (with outputs, params, ports) and the wires among them."""

    def __init__(
        self, doc: Document, records: list[dict[str, Any]], wires: list[tuple[Port, Port, Any]], text: str
    ) -> None:
        super().__init__(doc, text)
        self.records = records
        self.wires = wires

    def redo(self) -> None:
        for r in self.records:
            f, n = r["type"], r["name"]
            self.net.add_neuron(f, n, tuple(r["pos"]) if r.get("pos") else None)
            if r.get("ports"):
                self.net.layout.setdefault(neuron_key(f, n), {})["ports"] = copy.deepcopy(r["ports"])
                self.doc.ports_changed.emit((f, n))
            for o, v in r.get("outputs", {}).items():
                self.net.set_output(f, n, o, v)
            for p, v in r.get("params", {}).items():
                self.net.set_param(f, n, p, v)
        for to, frm, w in self.wires:
            self.net.set_weight(tuple(to), tuple(frm), w)

    def undo(self) -> None:
        for to, frm, _w in self.wires:
            self.net.set_weight(tuple(to), tuple(frm), 0)
        for r in reversed(self.records):
            self.net.remove_neuron(r["type"], r["name"])


class RemoveNeurons(DocCommand):
    """Remove neurons: their wires go first (each a weight event), then the neurons."""

    def __init__(self, doc: Document, ids: list[NeuronId]) -> None:
        super().__init__(
            doc, f"delete {len(ids)} neuron(s)" if len(ids) != 1 else f"delete {ids[0][0]}/{ids[0][1]}"
        )
        self.records = [_NeuronRecord(doc.network, nid) for nid in ids]

    def redo(self) -> None:
        done: set[tuple[Port, Port]] = set()
        for r in self.records:
            for to, frm, _w in r.wires:
                if (to, frm) not in done:
                    done.add((to, frm))
                    self.net.set_weight(to, frm, 0)
            self.net.remove_neuron(*r.nid)

    def undo(self) -> None:
        for r in reversed(self.records):
            r.restore(self.net)
            self.doc.ports_changed.emit(r.nid)
        done: set[tuple[Port, Port]] = set()
        for r in self.records:
            for to, frm, w in r.wires:
                if (to, frm) not in done:
                    done.add((to, frm))
                    self.net.set_weight(to, frm, w)


class RenameNeuron(DocCommand):
    def __init__(self, doc: Document, type: str, old: str, new: str) -> None:
        super().__init__(doc, f"rename {type}/{old} to {new}")
        self.type, self.old, self.new = type, old, new

    def redo(self) -> None:
        self.net.rename_neuron(self.type, self.old, self.new)

    def undo(self) -> None:
        self.net.rename_neuron(self.type, self.new, self.old)


class MoveNeurons(DocCommand):
    def __init__(
        self, doc: Document, moves: dict[NeuronId, tuple[tuple[float, float], tuple[float, float]]]
    ) -> None:
        super().__init__(doc, f"move {len(moves)} neuron(s)")
        self.moves = moves

    def redo(self) -> None:
        for nid, (_old, new) in self.moves.items():
            self.net.set_pos(*nid, new)

    def undo(self) -> None:
        for nid, (old, _new) in self.moves.items():
            self.net.set_pos(*nid, old)


class SetOutput(DocCommand):
    def __init__(self, doc: Document, nid: NeuronId, output: str, value: Any) -> None:
        super().__init__(doc, f"set {nid[0]}/{nid[1]}/{output}")
        self.nid, self.output = nid, output
        self.new = vv.canon(value)
        self.old = doc.network.output(*nid, output)

    def redo(self) -> None:
        self.net.set_output(*self.nid, self.output, self.new)

    def undo(self) -> None:
        self.net.set_output(*self.nid, self.output, self.old)


class SetParam(DocCommand):
    def __init__(self, doc: Document, nid: NeuronId, param: str, value: Any) -> None:
        super().__init__(doc, f"set {nid[0]}/{nid[1]} {param}")
        self.nid, self.param, self.new = nid, param, value
        self.had = param in doc.network.params.get(nid[0], {}).get(nid[1], {})
        self.old = doc.network.param(*nid, param)

    def redo(self) -> None:
        self.net.set_param(*self.nid, self.param, self.new)

    def undo(self) -> None:
        if self.had:
            self.net.set_param(*self.nid, self.param, self.old)
        else:
            self.net.set_param(*self.nid, self.param, self.old)
            f, n = self.nid
            self.net.params[f][n].pop(self.param, None)
            if not self.net.params[f][n]:
                del self.net.params[f][n]
            if not self.net.params[f]:
                del self.net.params[f]


class _PortsCommand(DocCommand):
    """Base for adding, renaming and removing ports of a variadic neuron."""

    def __init__(self, doc: Document, nid: NeuronId, text: str) -> None:
        super().__init__(doc, text)
        self.nid = nid
        self.before = copy.deepcopy(doc.network.layout.get(neuron_key(*nid)))

    def _set_ports(self, ports: dict[str, list[str]]) -> None:
        entry = self.net.layout.setdefault(neuron_key(*self.nid), {})
        entry["ports"] = {k: list(v) for k, v in ports.items() if v}
        if not entry["ports"]:
            del entry["ports"]

    def _restore_layout(self) -> None:
        key = neuron_key(*self.nid)
        if self.before is None:
            self.net.layout.pop(key, None)
        else:
            self.net.layout[key] = copy.deepcopy(self.before)
        self.doc.ports_changed.emit(self.nid)


class AddPort(_PortsCommand):
    def __init__(self, doc: Document, nid: NeuronId, side: str, name: str, mirror: bool) -> None:
        super().__init__(doc, nid, f"add {side[:-1]} {name} to {nid[0]}/{nid[1]}")
        self.side, self.name, self.mirror = side, name, mirror

    def redo(self) -> None:
        ports = layout_ports(self.net, self.nid)
        sides = ("inputs", "outputs") if self.mirror else (self.side,)
        for s in sides:
            if self.name not in ports[s]:
                ports[s].append(self.name)
        self._set_ports(ports)
        self.doc.ports_changed.emit(self.nid)

    def undo(self) -> None:
        self._restore_layout()


class RenamePort(_PortsCommand):
    """Rename a port: its wires and its output value move with it."""

    def __init__(self, doc: Document, nid: NeuronId, side: str, old: str, new: str, mirror: bool) -> None:
        super().__init__(doc, nid, f"rename port {old} to {new} on {nid[0]}/{nid[1]}")
        self.side, self.old, self.new, self.mirror = side, old, new, mirror
        sides = ("inputs", "outputs") if mirror else (side,)
        net = doc.network
        self.moves: list[tuple[Port, Port, Port, Port, Any]] = []
        for to, frm, w in net.wires():
            nto, nfrm = to, frm
            if "inputs" in sides and to[:2] == nid and to[2] == old:
                nto = (*nid, new)
            if "outputs" in sides and frm[:2] == nid and frm[2] == old:
                nfrm = (*nid, new)
            if (nto, nfrm) != (to, frm):
                self.moves.append((to, frm, nto, nfrm, w))
        self.value = net.output(*nid, old) if "outputs" in sides else {}
        self.sides = sides

    def redo(self) -> None:
        for to, frm, _nto, _nfrm, _w in self.moves:
            self.net.set_weight(to, frm, 0)
        if self.value:
            self.net.set_output(*self.nid, self.old, {})
        ports = layout_ports(self.net, self.nid)
        for s in self.sides:
            ports[s] = [self.new if p == self.old else p for p in ports[s]]
            if self.new not in ports[s]:
                ports[s].append(self.new)
        self._set_ports(ports)
        self.doc.ports_changed.emit(self.nid)
        if self.value:
            self.net.set_output(*self.nid, self.new, self.value)
        for _to, _frm, nto, nfrm, w in self.moves:
            self.net.set_weight(nto, nfrm, w)
        self.doc.ports_changed.emit(self.nid)

    def undo(self) -> None:
        for _to, _frm, nto, nfrm, _w in self.moves:
            self.net.set_weight(nto, nfrm, 0)
        if self.value:
            self.net.set_output(*self.nid, self.new, {})
        self._restore_layout()
        if self.value:
            self.net.set_output(*self.nid, self.old, self.value)
        for to, frm, _nto, _nfrm, w in self.moves:
            self.net.set_weight(to, frm, w)
        self.doc.ports_changed.emit(self.nid)


class RemovePort(_PortsCommand):
    """Remove a port with its wires (and its initial output value)."""

    def __init__(self, doc: Document, nid: NeuronId, side: str, name: str, mirror: bool) -> None:
        super().__init__(doc, nid, f"remove port {name} from {nid[0]}/{nid[1]}")
        self.name = name
        sides = ("inputs", "outputs") if mirror else (side,)
        self.sides = sides
        net = doc.network
        self.wires = [
            (to, frm, w)
            for to, frm, w in net.wires()
            if ("inputs" in sides and to[:2] == nid and to[2] == name)
            or ("outputs" in sides and frm[:2] == nid and frm[2] == name)
        ]
        self.value = net.output(*nid, name) if "outputs" in sides else {}

    def redo(self) -> None:
        for to, frm, _w in self.wires:
            self.net.set_weight(to, frm, 0)
        if self.value:
            self.net.set_output(*self.nid, self.name, {})
        ports = layout_ports(self.net, self.nid)
        for s in self.sides:
            ports[s] = [p for p in ports[s] if p != self.name]
        self._set_ports(ports)
        self.doc.ports_changed.emit(self.nid)

    def undo(self) -> None:
        self._restore_layout()
        if self.value:
            self.net.set_output(*self.nid, self.name, self.value)
        for to, frm, w in self.wires:
            self.net.set_weight(to, frm, w)


class SetProbes(DocCommand):
    """The probes the design keeps (``layout["type/name"]["probes"]``), all at once:
    ``probes`` is ``{"type/name": [probe dicts]}`` (a key left out has none)."""

    def __init__(self, doc: Document, probes: dict[str, list[dict[str, Any]]], text: str = "probes") -> None:
        super().__init__(doc, text)
        self.new = copy.deepcopy(probes)
        self.old = probes_of(doc.network.layout)

    def _apply(self, probes: dict[str, list[dict[str, Any]]]) -> None:
        layout = self.net.layout
        for key in list(layout):
            entry = layout[key]
            if isinstance(entry, dict) and "probes" in entry and key not in probes:
                del entry["probes"]
                if not entry:
                    del layout[key]  # an entry that only held probes
        for key, ps in probes.items():
            entry = layout.setdefault(key, {})
            if isinstance(entry, dict):
                entry["probes"] = copy.deepcopy(ps)
        self.doc.probes_changed.emit()

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


def probes_of(layout: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The probes a layout keeps: ``{"type/name": [probe dicts]}``."""
    return {
        k: copy.deepcopy(e["probes"]) for k, e in layout.items() if isinstance(e, dict) and e.get("probes")
    }
