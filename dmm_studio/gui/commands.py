"""Every edit of the design as an undoable command over the Network model.

The canvas never changes itself: a user gesture becomes one of these
commands, pushed on the document's ``QUndoStack``; ``redo``/``undo`` call
``Network`` methods (never its dicts), and every view follows the model's
typed signals (``Network.events``). No command emits a signal of its own.

A command that removes things builds its cascade as child commands, as
orange-canvas-core's ``RemoveNodeCommand`` does: removing neurons is one
``SetWeights`` child for all the wires that touch them (one pass over W_0),
then one ``RemoveNeuron`` child per neuron (its outputs, params and layout);
the parent runs the children in order on redo and in reverse on undo.
Ports that the user adds to a variadic neuron are kept in the layout
(``layout["type/name"]["ports"] = {"inputs": [...], "outputs": [...]}``) so
that a saved file keeps them (``Network.set_ports``).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from .. import vvalue as vv
from ..network import Network, Port

if TYPE_CHECKING:
    from .document import Document

NeuronId = tuple[str, str]
Wire = tuple[Port, Port, Any]


class DocCommand(QUndoCommand):
    """A command over the document's network. Given a ``parent``, it is one of
    the parent's children: the parent's ``redo`` runs its children in order and
    its ``undo`` in reverse (as ``QUndoCommand`` children do; they are kept on
    the Python side, since PySide would free a child's Python half while Qt
    still calls it)."""

    def __init__(self, doc: Document, text: str, parent: DocCommand | None = None) -> None:
        super().__init__(text)
        self.doc = doc
        self.kids: list[DocCommand] = []
        if parent is not None:
            parent.kids.append(self)

    def redo(self) -> None:
        for kid in self.kids:
            kid.redo()

    def undo(self) -> None:
        for kid in reversed(self.kids):
            kid.undo()

    def childCount(self) -> int:  # noqa: N802 (Qt's name)
        return len(self.kids)

    def child(self, index: int) -> DocCommand:  # type: ignore[override]
        return self.kids[index]

    @property
    def net(self) -> Network:
        return self.doc.network


class SetWeight(DocCommand):
    """One weight of W_0 (0 removes the wire)."""

    def __init__(
        self,
        doc: Document,
        to: Port,
        frm: Port,
        weight: float,
        text: str | None = None,
        parent: DocCommand | None = None,
    ) -> None:
        super().__init__(doc, text or f"weight {frm[1]}.{frm[2]} -> {to[1]}.{to[2]} = {weight:g}", parent)
        self.to, self.frm, self.new = tuple(to), tuple(frm), weight
        self.old = doc.network.weight(self.to, self.frm)

    def redo(self) -> None:
        self.net.set_weight(self.to, self.frm, self.new)

    def undo(self) -> None:
        self.net.set_weight(self.to, self.frm, self.old)


class SetWeights(DocCommand):
    """Many weights of W_0 in one step, ``[(to, from, weight)]`` (0 removes a wire):
    one ``Network.set_weights`` each way."""

    def __init__(
        self, doc: Document, wires: list[Wire], text: str = "weights", parent: DocCommand | None = None
    ) -> None:
        super().__init__(doc, text, parent)
        net = doc.network
        self.new = [(tuple(to), tuple(frm), w) for to, frm, w in wires]
        self.old = [(to, frm, net.weight(to, frm)) for to, frm, _w in self.new]

    def redo(self) -> None:
        self.net.set_weights(self.new)

    def undo(self) -> None:
        self.net.set_weights(self.old)


class AddNeuron(DocCommand):
    """Place one neuron with its layout entry (place, ports), outputs and params."""

    def __init__(self, doc: Document, rec: dict[str, Any], parent: DocCommand | None = None) -> None:
        super().__init__(doc, f"add {rec['type']}/{rec['name']}", parent)
        self.nid: NeuronId = (rec["type"], rec["name"])
        self.pos = tuple(rec["pos"]) if rec.get("pos") else None
        self.ports = copy.deepcopy(rec.get("ports") or {})
        self.outputs = dict(rec.get("outputs", {}))
        self.params = copy.deepcopy(rec.get("params", {}))

    def redo(self) -> None:
        f, n = self.nid
        self.net.add_neuron(f, n, self.pos)  # type: ignore[arg-type]
        if any(self.ports.values()):
            self.net.set_ports(f, n, self.ports)
        for o, v in self.outputs.items():
            self.net.set_output(f, n, o, v)
        for p, v in self.params.items():
            self.net.set_param(f, n, p, v)

    def undo(self) -> None:
        self.net.remove_neuron(*self.nid)


class AddNeurons(DocCommand):
    """Place neurons (with outputs, params, ports) and the wires among them:
    an ``AddNeuron`` child each, then one ``SetWeights`` child for the wires."""

    def __init__(self, doc: Document, records: list[dict[str, Any]], wires: list[Wire], text: str) -> None:
        super().__init__(doc, text)
        self.records = records
        for r in records:
            AddNeuron(doc, r, self)
        if wires:
            _WiresAfter(doc, wires, self)


class _WiresAfter(SetWeights):
    """Wires among neurons that an earlier sibling adds: the old weights are 0."""

    def __init__(self, doc: Document, wires: list[Wire], parent: DocCommand) -> None:
        DocCommand.__init__(self, doc, "wires", parent)  # the old weights are not read
        self.new = [(tuple(to), tuple(frm), w) for to, frm, w in wires]
        self.old = [(to, frm, 0) for to, frm, _w in self.new]


class RemoveNeuron(DocCommand):
    """Remove one neuron whose wires are gone (a sibling ``SetWeights`` removed
    them): its outputs, params and layout entry go, and come back on undo."""

    def __init__(self, doc: Document, nid: NeuronId, parent: DocCommand | None = None) -> None:
        super().__init__(doc, f"delete {nid[0]}/{nid[1]}", parent)
        net = doc.network
        f, n = nid
        self.nid = nid
        self.outputs = dict(net.outputs.get(f, {}).get(n, {}))
        self.params = copy.deepcopy(net.params.get(f, {}).get(n, {}))
        self.layout = net.layout_entry(f, n)

    def redo(self) -> None:
        self.net.remove_neuron(*self.nid)

    def undo(self) -> None:
        f, n = self.nid
        net = self.net
        pos = tuple(self.layout["pos"]) if self.layout and "pos" in self.layout else None
        net.add_neuron(f, n, pos)  # type: ignore[arg-type]
        if self.layout:
            net.set_layout_entry(f, n, self.layout)
        for o, v in self.outputs.items():
            net.set_output(f, n, o, v)
        for p, v in self.params.items():
            net.set_param(f, n, p, v)


class RemoveNeurons(DocCommand):
    """Remove neurons: a ``SetWeights`` child takes every wire that touches them
    (each wire once), then a ``RemoveNeuron`` child per neuron. Linear in the
    neurons and their wires (the model indexes the wires of each neuron)."""

    def __init__(self, doc: Document, ids: list[NeuronId]) -> None:
        super().__init__(
            doc, f"delete {len(ids)} neuron(s)" if len(ids) != 1 else f"delete {ids[0][0]}/{ids[0][1]}"
        )
        net = doc.network
        wires: dict[tuple[Port, Port], None] = {}
        for nid in ids:
            for to, frm, _w in net.wires_of(*nid):
                wires[(to, frm)] = None
        if wires:
            SetWeights(doc, [(to, frm, 0) for to, frm in wires], "unwire", self)
        for nid in ids:
            RemoveNeuron(doc, nid, self)


class RenameNeuron(DocCommand):
    def __init__(self, doc: Document, type: str, old: str, new: str) -> None:
        super().__init__(doc, f"rename {type}/{old} to {new}")
        self.type, self.old, self.new = type, old, new

    def redo(self) -> None:
        # references to it in matrix fragments and params are renamed too (kept for undo)
        self.references = self.net.rename_neuron(self.type, self.old, self.new)

    def undo(self) -> None:
        self.net.rename_neuron(self.type, self.new, self.old, references=False)
        back = (self.type, self.old)
        self.net.restore_references(
            [(k, back if nid == (self.type, self.new) else nid, key, b, a) for k, nid, key, b, a in self.references]
        )


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
    def __init__(
        self, doc: Document, nid: NeuronId, output: str, value: Any, parent: DocCommand | None = None
    ) -> None:
        super().__init__(doc, f"set {nid[0]}/{nid[1]}/{output}", parent)
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
            self.net.clear_param(*self.nid, self.param)


class SetPorts(DocCommand):
    """The ports a user added to a variadic neuron, ``{"inputs": [...], "outputs": [...]}``."""

    def __init__(
        self, doc: Document, nid: NeuronId, ports: dict[str, list[str]], parent: DocCommand | None = None
    ) -> None:
        super().__init__(doc, f"ports of {nid[0]}/{nid[1]}", parent)
        self.nid = nid
        self.new = {k: list(v) for k, v in ports.items()}
        self.old = doc.network.layout_ports(*nid)

    def redo(self) -> None:
        self.net.set_ports(*self.nid, self.new)

    def undo(self) -> None:
        self.net.set_ports(*self.nid, self.old)


def _port_sides(side: str, mirror: bool) -> tuple[str, ...]:
    return ("inputs", "outputs") if mirror else (side,)


class AddPort(DocCommand):
    def __init__(self, doc: Document, nid: NeuronId, side: str, name: str, mirror: bool) -> None:
        super().__init__(doc, f"add {side[:-1]} {name} to {nid[0]}/{nid[1]}")
        ports = doc.network.layout_ports(*nid)
        for s in _port_sides(side, mirror):
            if name not in ports[s]:
                ports[s].append(name)
        SetPorts(doc, nid, ports, self)


class RenamePort(DocCommand):
    """Rename a port: its wires and its output value move with it (children:
    the old wires go, the old output goes, the ports change, the output comes
    back under the new name, the wires come back to the new port)."""

    def __init__(self, doc: Document, nid: NeuronId, side: str, old: str, new: str, mirror: bool) -> None:
        super().__init__(doc, f"rename port {old} to {new} on {nid[0]}/{nid[1]}")
        sides = _port_sides(side, mirror)
        net = doc.network
        moves: list[tuple[Port, Port, Port, Port, Any]] = []
        for to, frm, w in net.wires_of(*nid):
            nto, nfrm = to, frm
            if "inputs" in sides and to[:2] == nid and to[2] == old:
                nto = (*nid, new)
            if "outputs" in sides and frm[:2] == nid and frm[2] == old:
                nfrm = (*nid, new)
            if (nto, nfrm) != (to, frm):
                moves.append((to, frm, nto, nfrm, w))
        value = net.output(*nid, old) if "outputs" in sides else {}
        ports = net.layout_ports(*nid)
        for s in sides:
            ports[s] = [new if p == old else p for p in ports[s]]
            if new not in ports[s]:
                ports[s].append(new)
        if moves:
            SetWeights(doc, [(to, frm, 0) for to, frm, *_ in moves], "unwire", self)
        if value:
            SetOutput(doc, nid, old, {}, self)
        SetPorts(doc, nid, ports, self)
        if value:
            _SetOutputAfter(doc, nid, new, value, self)
        if moves:
            _WiresAfter(doc, [(nto, nfrm, w) for _to, _frm, nto, nfrm, w in moves], self)


class _SetOutputAfter(SetOutput):
    """An output that an earlier sibling cleared: its old value is ``{}``."""

    def __init__(self, doc: Document, nid: NeuronId, output: str, value: Any, parent: DocCommand) -> None:
        super().__init__(doc, nid, output, value, parent)
        self.old = {}


class RemovePort(DocCommand):
    """Remove a port with its wires (and its initial output value): children."""

    def __init__(self, doc: Document, nid: NeuronId, side: str, name: str, mirror: bool) -> None:
        super().__init__(doc, f"remove port {name} from {nid[0]}/{nid[1]}")
        sides = _port_sides(side, mirror)
        net = doc.network
        wires = [
            (to, frm, 0)
            for to, frm, _w in net.wires_of(*nid)
            if ("inputs" in sides and to[:2] == nid and to[2] == name)
            or ("outputs" in sides and frm[:2] == nid and frm[2] == name)
        ]
        if wires:
            SetWeights(doc, wires, "unwire", self)
        if "outputs" in sides and net.output(*nid, name):
            SetOutput(doc, nid, name, {}, self)
        ports = net.layout_ports(*nid)
        for s in sides:
            ports[s] = [p for p in ports[s] if p != name]
        SetPorts(doc, nid, ports, self)


class SetProbes(DocCommand):
    """The probes the design keeps (``layout["type/name"]["probes"]``), all at once:
    ``probes`` is ``{"type/name": [probe dicts]}`` (a key left out has none)."""

    def __init__(self, doc: Document, probes: dict[str, list[dict[str, Any]]], text: str = "probes") -> None:
        super().__init__(doc, text)
        self.new = copy.deepcopy(probes)
        self.old = doc.network.probes()

    def redo(self) -> None:
        self.net.set_probes(self.new)

    def undo(self) -> None:
        self.net.set_probes(self.old)


def probes_of(layout: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The probes a layout keeps: ``{"type/name": [probe dicts]}``."""
    return {
        k: copy.deepcopy(e["probes"]) for k, e in layout.items() if isinstance(e, dict) and e.get("probes")
    }


class SetModes(DocCommand):
    """Mute, bypass or restore neurons (``{neuron: "mute" | "bypass" | None}``):
    ``Network.set_mode`` each way (docs/semantics.md, Mute and bypass)."""

    def __init__(self, doc: Document, modes: dict[NeuronId, str | None], text: str) -> None:
        super().__init__(doc, text)
        self.new = dict(modes)
        self.old = {nid: doc.network.mode(*nid) for nid in modes}

    def redo(self) -> None:
        for nid, mode in self.new.items():
            self.net.set_mode(*nid, mode)

    def undo(self) -> None:
        for nid, mode in self.old.items():
            self.net.set_mode(*nid, mode)


LIVE_PARAMS_ID = 0x4C495645  # "LIVE": one id for every LiveParams command (mergeWith)


class LiveParams(DocCommand):
    """Params of one neuron played from a live control (a slider dragged, an
    XY pad moved): the moves of one gesture merge into one undo step
    (``mergeWith``) while the control says the gesture goes on (``gesture``)."""

    def __init__(self, doc: Document, nid: NeuronId, values: dict[str, Any], gesture: int) -> None:
        super().__init__(doc, f"play {nid[0]}/{nid[1]}")
        self.nid, self.gesture = nid, gesture
        net = doc.network
        self.new = dict(values)
        self.old = {
            p: (p in net.params.get(nid[0], {}).get(nid[1], {}), net.param(*nid, p)) for p in values
        }

    def id(self) -> int:  # noqa: A003 (Qt's name)
        return LIVE_PARAMS_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt's name)
        if not isinstance(other, LiveParams) or other.nid != self.nid or other.gesture != self.gesture:
            return False
        for p, v in other.new.items():
            self.old.setdefault(p, other.old[p])
            self.new[p] = v
        return True

    def redo(self) -> None:
        for p, v in self.new.items():
            self.net.set_param(*self.nid, p, v)

    def undo(self) -> None:
        for p, (had, v) in self.old.items():
            if had:
                self.net.set_param(*self.nid, p, v)
            else:
                self.net.clear_param(*self.nid, p)
