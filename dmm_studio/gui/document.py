"""The open design: the Network model, its undo stack, its file, and the
user-level edits (each one checked, then pushed as a command).

Views call these methods; they never edit the Network directly. A refused
edit emits ``message`` (shown in the status bar) and returns False. Views
follow the model's typed signals (``Network.events``) through a
``Connections`` they bind again on ``replaced`` (clear, connect, fill).
``probes_changed`` relays the model's ``probesChanged`` for Qt-side
listeners that follow the document rather than one network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from .. import vvalue as vv
from ..fileformat import load_network, save_network, state_to_json
from ..network import SELF_ID, Connections, Network, Port, neuron_key
from ..registry import Registry, default_registry
from . import commands as cmd
from .model_ops import incompatible, layout_ports, ports_of, unique_name

NeuronId = tuple[str, str]


class Document(QObject):
    message = Signal(str)  # a line for the status bar
    replaced = Signal()  # a new Network was loaded (views rebuild)
    path_changed = Signal(str)
    probes_changed = Signal()  # the probes kept in the layout changed (an edit, undo, redo)

    def __init__(
        self, network: Network | None = None, registry: Registry | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.registry = registry or default_registry()
        self.network = network or Network.empty()
        self.undo_stack = QUndoStack(self)
        self.path: str | None = None
        self._relay = Connections({"probesChanged": self.probes_changed.emit})
        self._relay.bind(self.network)

    # ------------------------------------------------------------- files
    def set_network(self, net: Network, path: str | None = None) -> None:
        self.network = net
        self._relay.bind(net)
        self.path = path
        self.undo_stack.clear()
        self.replaced.emit()
        self.path_changed.emit(path or "")

    def open(self, path: str) -> Network:
        """Load a file (raises NetworkFileError; the open design stays as it was)."""
        net = load_network(path, self.registry)
        self.set_network(net, str(path))
        return net

    def save(self, path: str | None = None) -> None:
        path = path or self.path
        if not path:
            raise ValueError("no file name")
        save_network(self.network, path)
        self.path = str(path)
        self.undo_stack.setClean()
        self.path_changed.emit(self.path)

    def set_probes(self, probes: dict[str, list[dict[str, Any]]], text: str = "probes") -> bool:
        """Keep these probes in the design (``{"type/name": [probe dicts]}``): an
        undoable edit that marks the file changed; False when nothing changes."""
        if self.network.probes() == probes:
            return False
        self.undo_stack.push(cmd.SetProbes(self, probes, text))
        return True

    # ------------------------------------------------------------- checks
    def _refuse(self, text: str) -> bool:
        self.message.emit(text)
        return False

    def ntype(self, type: str) -> Any:
        return self.registry.get(type)

    def ports(self, nid: NeuronId) -> tuple[list[str], list[str]]:
        return ports_of(self.network, nid, self.registry)

    # ------------------------------------------------------------- edits
    def add_neuron(
        self, type: str, pos: tuple[float, float] = (0.0, 0.0), name: str | None = None
    ) -> NeuronId | None:
        if type not in self.registry:
            self._refuse(f"unknown neuron type {type!r}")
            return None
        if type == SELF_ID[0]:
            self._refuse("there is one Self in every network; it is already here")
            return None
        name = name or unique_name(self.network, type)
        if self.network.has_neuron(type, name):
            self._refuse(f"there is already a neuron {type}/{name}")
            return None
        rec = {"type": type, "name": name, "pos": [float(pos[0]), float(pos[1])]}
        self.undo_stack.push(cmd.AddNeurons(self, [rec], [], f"add {type}/{name}"))
        return (type, name)

    def connect(self, to: Port, frm: Port, weight: float = 1) -> bool:
        """Wire an output to an input (adds ``weight`` if the wire exists: no, sets it)."""
        to, frm = tuple(to), tuple(frm)
        if self.network.weight(to, frm):
            return self._refuse(f"{frm[1]}.{frm[2]} is already wired to {to[1]}.{to[2]}")
        why = incompatible(self.network, to, frm)
        if why:
            return self._refuse(f"refused: {why}")
        self.undo_stack.push(
            cmd.SetWeight(self, to, frm, weight, f"wire {frm[1]}.{frm[2]} -> {to[1]}.{to[2]}")
        )
        return True

    def disconnect(self, to: Port, frm: Port) -> bool:
        if not self.network.weight(tuple(to), tuple(frm)):
            return False
        self.undo_stack.push(cmd.SetWeight(self, to, frm, 0, f"unwire {frm[1]}.{frm[2]} -> {to[1]}.{to[2]}"))
        return True

    def rewire(self, disconnected: list[tuple[Port, Port]], connected: list[tuple[Port, Port]]) -> None:
        """One gesture on the canvas: some wires removed, some drawn (one undo step)."""
        ok = []
        for to, frm in connected:
            if self.network.weight(to, frm):
                continue
            why = incompatible(self.network, to, frm)
            if why:
                # the whole gesture is refused: a wire dragged onto a port
                # that cannot take it stays where it was
                self._refuse(f"refused: {why}")
                return
            ok.append((to, frm))
        gone = [(to, frm) for to, frm in disconnected if self.network.weight(to, frm)]
        if not ok and not gone:
            return
        self.undo_stack.beginMacro("rewire" if gone and ok else ("wire" if ok else "unwire"))
        gone_w = [self.network.weight(to, frm) for to, frm in gone]
        for to, frm in gone:
            self.undo_stack.push(cmd.SetWeight(self, to, frm, 0))
        for to, frm in ok:
            # a wire dragged from one port to another keeps its weight
            w = gone_w[0] if len(gone) == 1 and len(ok) == 1 else 1
            self.undo_stack.push(cmd.SetWeight(self, to, frm, w))
        self.undo_stack.endMacro()

    def set_weight(self, to: Port, frm: Port, weight: float) -> bool:
        if not vv.is_number(weight) or weight != weight or weight in (float("inf"), float("-inf")):
            return self._refuse(f"a weight is a finite number, not {weight!r}")
        if self.network.weight(tuple(to), tuple(frm)) == weight:
            return True
        if not self.network.weight(tuple(to), tuple(frm)):
            why = incompatible(self.network, tuple(to), tuple(frm))
            if why:
                return self._refuse(f"refused: {why}")
        self.undo_stack.push(cmd.SetWeight(self, to, frm, weight))
        return True

    def remove_neurons(self, ids: list[NeuronId]) -> None:
        if SELF_ID in ids:
            self.message.emit("Self cannot be deleted: it holds the network matrix")
            ids = [i for i in ids if i != SELF_ID]
        if ids:
            self.undo_stack.push(cmd.RemoveNeurons(self, ids))

    def rename_neuron(self, nid: NeuronId, new: str) -> bool:
        new = new.strip()
        if nid == SELF_ID:
            return self._refuse("Self cannot be renamed")
        if new == nid[1]:
            return True
        if not new or new.startswith(":") or "/" in new:
            return self._refuse(f"{new!r} is not a neuron name (not empty, no '/', not starting with ':')")
        if self.network.has_neuron(nid[0], new):
            return self._refuse(f"there is already a neuron {nid[0]}/{new}: names are unique per type")
        self.undo_stack.push(cmd.RenameNeuron(self, nid[0], nid[1], new))
        return True

    def move_neurons(self, moves: dict[NeuronId, tuple[tuple[float, float], tuple[float, float]]]) -> None:
        moves = {k: v for k, v in moves.items() if tuple(v[0]) != tuple(v[1])}
        if moves:
            self.undo_stack.push(cmd.MoveNeurons(self, moves))

    def set_output(self, nid: NeuronId, output: str, value: Any) -> bool:
        try:
            value = vv.canon(value)
        except vv.VValueError as e:
            return self._refuse(f"not a V-value: {e}")
        if vv.equal(value, self.network.output(*nid, output)):
            return True
        self.undo_stack.push(cmd.SetOutput(self, nid, output, value))
        return True

    def set_outputs(self, nid: NeuronId, values: dict[str, Any]) -> bool:
        """Replace every initial output of a neuron (one undo step)."""
        old = self.network.outputs.get(nid[0], {}).get(nid[1], {})
        changes = [(o, v) for o, v in values.items() if not vv.equal(vv.canon(v), old.get(o, {}))]
        changes += [(o, {}) for o in old if o not in values]
        if not changes:
            return True
        self.undo_stack.beginMacro(f"set outputs of {nid[0]}/{nid[1]}")
        for o, v in changes:
            self.undo_stack.push(cmd.SetOutput(self, nid, o, v))
        self.undo_stack.endMacro()
        return True

    def set_param(self, nid: NeuronId, param: str, value: Any) -> bool:
        declared = self.ntype(nid[0]).params
        if param not in declared:
            return self._refuse(f"{nid[0]} has no param {param!r}")
        if self.network.param(*nid, param, declared[param]) == value:
            return True
        self.undo_stack.push(cmd.SetParam(self, nid, param, value))
        return True

    def add_port(self, nid: NeuronId, side: str, name: str) -> bool:
        t = self.ntype(nid[0])
        name = name.strip()
        variadic = t.variadic_inputs if side == "inputs" else t.variadic_outputs
        if not variadic:
            return self._refuse(f"{nid[0]} has a fixed set of {side}")
        if not name or name.startswith(":"):
            return self._refuse(f"{name!r} is not a port name")
        ins, outs = self.ports(nid)
        if name in (ins if side == "inputs" else outs):
            return self._refuse(f"{nid[0]}/{nid[1]} already has the {side[:-1]} {name!r}")
        self.undo_stack.push(cmd.AddPort(self, nid, side, name, t.mirror))
        return True

    def rename_port(self, nid: NeuronId, side: str, old: str, new: str) -> bool:
        t = self.ntype(nid[0])
        new = new.strip()
        declared = t.inputs if side == "inputs" else t.outputs
        if old in declared:
            return self._refuse(f"{old!r} is declared by {nid[0]}: it cannot be renamed")
        if not new or new.startswith(":"):
            return self._refuse(f"{new!r} is not a port name")
        ins, outs = self.ports(nid)
        if new in (ins if side == "inputs" else outs):
            return self._refuse(f"{nid[0]}/{nid[1]} already has the {side[:-1]} {new!r}")
        self.undo_stack.push(cmd.RenamePort(self, nid, side, old, new, t.mirror))
        return True

    def remove_port(self, nid: NeuronId, side: str, name: str) -> bool:
        t = self.ntype(nid[0])
        declared = t.inputs if side == "inputs" else t.outputs
        if name in declared:
            return self._refuse(f"{name!r} is declared by {nid[0]}: it cannot be removed")
        self.undo_stack.push(cmd.RemovePort(self, nid, side, name, t.mirror))
        return True

    # ------------------------------------------------------------- clipboard
    def copy_text(self, ids: list[NeuronId]) -> str:
        """The selected neurons (not Self) and the wires among them, as JSON."""
        ids = [i for i in ids if i != SELF_ID]
        net = self.network
        chosen = set(ids)
        recs = []
        for f, n in ids:
            entry = net.layout.get(neuron_key(f, n), {})
            recs.append(
                {
                    "type": f,
                    "name": n,
                    "pos": entry.get("pos", [0, 0]),
                    "ports": layout_ports(net, (f, n)),
                    "outputs": state_to_json({f: {n: net.outputs.get(f, {}).get(n, {})}})
                    .get(f, {})
                    .get(n, {}),
                    "params": net.params.get(f, {}).get(n, {}),
                }
            )
        wires = [
            [list(to), list(frm), w] for to, frm, w in net.wires() if to[:2] in chosen and frm[:2] in chosen
        ]
        return json.dumps({"neurons": recs, "wires": wires})

    def paste_text(
        self, text: str, offset: tuple[float, float] = (40.0, 40.0), at: tuple[float, float] | None = None
    ) -> list[NeuronId]:
        """Add the neurons of ``copy_text`` (renamed where their names are
        taken), moved by ``offset``, or with the top-left of their group at
        ``at`` (a scene point: the mouse pointer). Returns the new neurons."""
        try:
            data = json.loads(text)
            recs = data["neurons"]
            if at is not None:
                xs = [float(r.get("pos", [0, 0])[0]) for r in recs]
                ys = [float(r.get("pos", [0, 0])[1]) for r in recs]
                offset = (at[0] - min(xs), at[1] - min(ys)) if recs else offset
        except (ValueError, KeyError, TypeError, IndexError):
            self._refuse("the clipboard holds no neurons")
            return []
        renames: dict[NeuronId, str] = {}
        taken = Network(outputs={}, layout={})
        new_recs = []
        for r in recs:
            f = r["type"]
            if f not in self.registry or f == SELF_ID[0]:
                continue
            name = r["name"]
            while self.network.has_neuron(f, name) or taken.has_neuron(f, name):
                name = unique_name(_Union(self.network, taken), f, name)
            taken.add_neuron(f, name)
            renames[(f, r["name"])] = name
            x, y = r.get("pos", [0, 0])
            new_recs.append(
                {
                    "type": f,
                    "name": name,
                    "pos": [x + offset[0], y + offset[1]],
                    "ports": r.get("ports") or {},
                    "outputs": {o: vv.from_json(v) for o, v in r.get("outputs", {}).items()},
                    "params": r.get("params", {}),
                }
            )
        wires = []
        for to, frm, w in data.get("wires", []):
            a, b = (to[0], to[1]), (frm[0], frm[1])
            if a in renames and b in renames:
                wires.append(((a[0], renames[a], to[2]), (b[0], renames[b], frm[2]), w))
        if not new_recs:
            return []
        self.undo_stack.push(cmd.AddNeurons(self, new_recs, wires, f"paste {len(new_recs)} neuron(s)"))
        return [(r["type"], r["name"]) for r in new_recs]

    def keep_positions(self, positions: dict[NeuronId, tuple[float, float]]) -> None:
        """Places the canvas chose for neurons that the design did not place
        (a file without a layout, Self in a new network): kept in the layout, so
        that the file saved next holds them and a reopened network looks the
        same (Self does not move when columns are added). Not an edit: no undo
        step, the design stays unmodified."""
        for nid, (x, y) in positions.items():
            if self.pos_of(nid) is None:
                self.network.set_pos(*nid, (float(x), float(y)))

    def pos_of(self, nid: NeuronId) -> tuple[float, float] | None:
        entry = self.network.layout.get(neuron_key(*nid))
        if entry and "pos" in entry:
            return tuple(entry["pos"])  # type: ignore[return-value]
        return None

    def title(self) -> str:
        return Path(self.path).name if self.path else "untitled"


class _Union:
    """Two networks seen as one, for picking names that neither uses."""

    def __init__(self, a: Network, b: Network) -> None:
        self.a, self.b = a, b

    def neurons(self) -> list[NeuronId]:
        return self.a.neurons() + self.b.neurons()
