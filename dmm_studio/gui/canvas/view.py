"""The canvas: a NodeGraphQt view over the Network model (design sync).

This module holds ``Canvas``: building the drawing from the document's
network and keeping it equal to the model as it changes. The rest of the
canvas lives beside it: ``ngqt`` (every NodeGraphQt subclass, private
override and monkeypatch), ``live`` (the ``W_t`` overlay while running:
``LiveOverlay``), ``menus`` (gestures, menus, selection, hover, costs:
``Interaction``), ``look`` (colours and number formats).

The canvas never edits itself. NodeGraphQt's own handlers for the user's
gestures (a wire drawn or dragged off, nodes moved, a name typed, a type
dropped or picked with Tab) are replaced by ``DMMGraph`` overrides that call
the ``Document``, which pushes undoable commands on the model; the canvas then
follows the model's typed signals (``Network.events``: one handler each,
bound through a ``Connections`` that ``rebuild`` moves to a new network:
clear, connect, fill) and changes NodeGraphQt with ``push_undo=False``.
NodeGraphQt's own undo stack is not used.

Node classes are generated from the registry's declarations (``node_class``).
Wires are ``WeightPipe`` items (NodeGraphQt's pipe with its weight drawn on
it); live changes (weights, the active part) are drawn on our own items and
never go through NodeGraphQt properties, which relayout a node per call.

Removing or adding many neurons is linear: the canvas keeps the drawn wires
of each neuron (``_wires_at``), reads a neuron's ports from the model's wire
index, and tells the selection once per burst, not once per removed node.
Undo of a delete puts the removed nodes and pipes back (``_spare``,
``_spare_pipes``, kept until the next ``rebuild``) instead of building them
again, as NodeGraphQt's own undo does (bench/canvas.py --delete: Select all +
Delete and Undo of 1,000 neurons beside NodeGraphQt's own).

Scaling (see bench/canvas.py): the view repaints only what changed
(``MinimalViewportUpdate``); wires paint in C++ without a pixmap cache;
zoomed out, nodes draw as plain boxes (level of detail set when the zoom
crosses a threshold, not per paint), wires lose their labels and nothing is
antialiased; a drag in a big graph paints without antialiasing until the
mouse is released.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QPointF, QRectF, QTimer, Signal

from ...network import Connections, Port
from ...registry import Registry
from ..document import Document
from ..model_ops import active_neurons, auto_layout, matrix_wires, ports_index, ports_of
from ..running_state import RunningState
from .live import LiveOverlay
from .look import NeuronId, WireKey, family_color
from .menus import Interaction
from .notes import Notes
from .ngqt import DMMGraph, DMMViewer, NeuronNode, WeightPipe, node_class


def _used_by(wires: list[tuple[Port, Port, Any]], nid: NeuronId) -> tuple[list[str], list[str]]:
    """The inputs and outputs of ``nid`` that these wires use."""
    ins: dict[str, None] = {}
    outs: dict[str, None] = {}
    for to, frm, _w in wires:
        if to[:2] == nid:
            ins[to[2]] = None
        if frm[:2] == nid:
            outs[frm[2]] = None
    return list(ins), list(outs)


class Canvas(LiveOverlay, Interaction, QObject):
    """Keeps a DMMGraph equal to the Document's Network (and, running, to the
    ``RunningState``'s ``W_t``)."""

    selection_changed = Signal(list)  # [NeuronId]
    live_weight_requested = Signal(object, object, object)  # to, frm, weight: W_t only
    wire_selected = Signal(object)  # (to, frm) or None
    runtime_selected = Signal(object)  # a run-time neuron selected alone, or None
    tab_requested = Signal(QPointF)

    def __init__(
        self, doc: Document, parent: QObject | None = None, running: RunningState | None = None
    ) -> None:
        super().__init__(parent)
        self.doc = doc
        # W_t while running: a model of its own, read by the Self view and the inspector too
        self.running = running if running is not None else RunningState()
        self.registry: Registry = doc.registry
        self.graph = DMMGraph(self)
        self.viewer: DMMViewer = self.graph.viewer()
        self.widget = self.graph.widget
        self.nodes: dict[NeuronId, NeuronNode] = {}
        self.by_id: dict[str, NeuronId] = {}
        self.pipes: dict[WireKey, WeightPipe] = {}
        self.shown: dict[WireKey, Any] = {}  # the wires drawn, with their weights
        self._wires_at: dict[NeuronId, set[WireKey]] = {}  # the drawn wires of each neuron
        self._spare: dict[NeuronId, NeuronNode] = {}  # removed design nodes, until rebuild
        self._spare_pipes: dict[WireKey, WeightPipe] = {}  # erased design wires, until rebuild
        self._dimmed: set[NeuronId] = set()
        # run-time neurons: in W_t, not in the design (see show_matrix)
        self.runtime: dict[NeuronId, NeuronNode] = {}
        self.runtime_by_id: dict[str, NeuronId] = {}
        self._runtime_pos: dict[NeuronId, tuple[float, float]] = {}  # kept for the run
        self._live_neurons: frozenset[NeuronId] = frozenset()
        self._live_used: frozenset[Port] = frozenset()  # the ports W_t's wires use
        self._live_ports: dict[NeuronId, tuple[list[str], list[str]]] = {}
        self._ported: set[NeuronId] = set()  # design nodes showing ports only W_t uses
        self._suppressed: set[NeuronId] = set()  # removed or renamed while running
        self._building = False
        self._used: dict[NeuronId, tuple[list[str], list[str]]] = {}
        self._touched: list[NeuronId] = []
        self._active_pending = False
        for t in self.registry:
            self.graph.register_node(node_class(t))
        self.graph.wires_requested.connect(self._on_wires_requested)
        self.graph.moved.connect(self._on_moved)
        self.graph.name_edited.connect(self._on_name_edited)
        self.graph.type_dropped.connect(self._on_type_dropped)
        self.graph.node_selection_changed.connect(lambda *_: self._emit_selection())
        self.graph.node_selected.connect(lambda *_: self._emit_selection())
        self.viewer.scene().selectionChanged.connect(self._emit_selection)
        self.viewer.pipe_double_clicked.connect(self._edit_pipe_weight)
        self.viewer.pipe_established.connect(self._on_pipe_established)
        self.viewer.tab_requested.connect(self.tab_requested)
        self.viewer.context_requested.connect(self._context_menu)
        self.viewer.hover_text = self.hover_text_at
        self._selection_pending = False
        self._model = Connections(
            {
                "weightChanged": self._on_weight,
                "outputChanged": self._on_output,
                "neuronAdded": self._on_added,
                "neuronRemoved": self._on_removed,
                "neuronRenamed": self._on_renamed,
                "neuronMoved": self._on_moved_in_model,
                "portsChanged": self._sync_ports,
            }
        )
        self.running.changed.connect(self._on_running_changed)
        doc.replaced.connect(self.rebuild)
        self.rebuild()
        self.notes = Notes(self)  # backdrops and comments (meta.backdrops, meta.comments)

    @property
    def live(self) -> dict[WireKey, Any] | None:
        """W_t's wires while running (the running state's), None at design time."""
        return self.running.wires

    def rebuild(self) -> None:
        """Throw the drawing away and draw the document's network."""
        self._model.bind(self.doc.network)
        self._drop_runtime(list(self.runtime))
        self._reset_live_state()
        self.running.clear(always=True)  # another W_0: readers of the running state redraw
        for node in list(self.nodes.values()):
            self._clear_node_connections(node)
            self.graph.remove_node(node, push_undo=False)
        self.nodes.clear()
        self.by_id.clear()
        self.pipes.clear()
        self.shown.clear()
        self._wires_at.clear()
        self._spare.clear()
        self._spare_pipes.clear()
        self._dimmed.clear()
        net = self.doc.network
        ids = net.neurons()
        missing = [i for i in ids if self.doc.pos_of(i) is None]
        auto = auto_layout(net) if missing else {}
        if missing:  # kept, so that a saved file looks the same when reopened
            self.doc.keep_positions({nid: auto[nid] for nid in missing if nid in auto})
        wires = matrix_wires(net.matrix)
        self._used = ports_index(wires)
        self._building = True
        try:
            for nid in ids:
                pos = self.doc.pos_of(nid) or auto.get(nid, (0.0, 0.0))
                self._add_node(nid, pos)
        finally:
            self._building = False
        for node in self.nodes.values():
            node.view.draw_node()
        self._apply_wires(wires)
        self.set_active(active_neurons(net.matrix))
        self._fix_scene_rect(force=True)

    def _fix_scene_rect(self, force: bool = False) -> None:
        """Give the scene a fixed rectangle with room around the nodes.

        Without one, the scene grows its rectangle as wires move and rebuilds
        its BSP index each time: ~100 ms spikes in a drag at 500 nodes.
        Without an index (NoIndex), every frame asks all ports and nodes for
        their bounds in Python: ~25 ms at 1,000 nodes. A fixed rectangle,
        grown only when a node leaves it, keeps the index and drops both.
        """
        scene = self.viewer.scene()
        current = scene.sceneRect()
        if not force and self.nodes:
            inside = all(current.contains(n.view.sceneBoundingRect()) for n in self._recent())
            if inside:
                return
        r = QRectF()
        for n in [*self.nodes.values(), *self.runtime.values()]:
            r = r.united(n.view.sceneBoundingRect())
        m = max(4000.0, r.width(), r.height())
        scene.setSceneRect(r.adjusted(-m, -m, m, m))

    def _recent(self) -> list[Any]:
        return [n for n in map(self._node, self._touched) if n is not None]

    def _node(self, nid: NeuronId) -> NeuronNode | None:
        """The drawn node of a neuron: of the design, or a run-time one."""
        node = self.nodes.get(nid)
        return node if node is not None else self.runtime.get(nid)

    def _add_node(self, nid: NeuronId, pos: tuple[float, float], runtime: bool = False) -> NeuronNode:
        spare = None if runtime else self._spare.pop(nid, None)
        if spare is not None:
            # a node removed earlier (undo of a delete): its items are put back as they were
            self.graph.put_back(spare, (float(pos[0]), float(pos[1])))
            spare.view.setOpacity(1.0)
            spare.view.set_detail(self.viewer.detail_shown)
            self.nodes[nid] = spare
            self.by_id[spare.id] = nid
            self.viewer.node_count = len(self.nodes) + len(self.runtime)
            self._sync_ports(nid)
            return spare
        t = self.registry.get(nid[0])
        node = node_class(t)()
        node._neuron = nid  # type: ignore[attr-defined]
        node.NODE_NAME = nid[1]
        node.model.name = nid[1]
        node.view.name = nid[1]
        node.model.color = (*family_color(t), 255)
        node.view.color = (*family_color(t), 255)
        self.graph.add_node(node, pos=[float(pos[0]), float(pos[1])], selected=False, push_undo=False)
        if not self.viewer.detail_shown:
            node.view.set_detail(False)
        if runtime:
            node.view.set_runtime()
            self.runtime[nid] = node
            self.runtime_by_id[node.id] = nid
        else:
            self.nodes[nid] = node
            self.by_id[node.id] = nid
        self.viewer.node_count = len(self.nodes) + len(self.runtime)
        self._sync_ports(nid)
        return node

    def _clear_node_connections(self, node: NeuronNode) -> None:
        for p in node.input_ports() + node.output_ports():
            p.clear_connections(push_undo=False, emit_signal=False)

    def _sync_ports(self, nid: NeuronId, redraw: bool = True) -> None:
        """Give a node the ports it shows: its design's, and while running the
        ones ``W_t`` uses (``redraw``: then draw the wires that needed them)."""
        runtime = nid in self.runtime
        node = self.runtime[nid] if runtime else self.nodes.get(nid)
        if node is None:
            return
        if runtime:
            used: tuple[list[str], list[str]] | None = ([], [])
        else:
            net = self.doc.network
            used = self._used.get(nid, ([], [])) if self._building else _used_by(net.wires_of(*nid), nid)
        ins, outs = ports_of(self.doc.network, nid, self.registry, used=used)
        if self.live is not None:
            live_in, live_out = self._live_ports.get(nid, ([], []))
            extra_in = [p for p in live_in if p not in ins]
            extra_out = [p for p in live_out if p not in outs]
            if self.registry.get(nid[0]).mirror:
                extra_in = extra_out = list(dict.fromkeys(extra_in + extra_out))
            ins = ins + [p for p in extra_in if p not in ins]
            outs = outs + [p for p in extra_out if p not in outs]
            if not runtime:
                if extra_in or extra_out:
                    self._ported.add(nid)
                else:
                    self._ported.discard(nid)
        changed = False
        for side, want, have, add, delete in (
            ("in", ins, node.inputs(), node.add_input, node.delete_input),
            ("out", outs, node.outputs(), node.add_output, node.delete_output),
        ):
            for name in list(have):
                if name not in want:
                    port = have[name]
                    for key in [
                        k
                        for k in self._wires_at.get(nid, ())
                        if (k[0] if side == "in" else k[1]) == (*nid, name)
                    ]:
                        self._forget_wire(key)
                    port.clear_connections(push_undo=False, emit_signal=False)
                    delete(port)
                    changed = True
            for name in want:
                if name not in have:
                    port = add(name, multi_input=True) if side == "in" else add(name, multi_output=True)
                    if runtime:
                        port.view.locked = True  # no wires drawn by hand to or from it
                    mark_undeclared(port, self.registry.get(nid[0]), side, name)
                    changed = True
        if changed and not self._building and redraw:
            node.view.draw_node()
            # wires that could not be drawn without this port
            target = self.live if self.live is not None else matrix_wires(self.doc.network.matrix)
            self._apply_wires({k: w for k, w in target.items() if nid in (k[0][:2], k[1][:2])}, partial=True)

    def _pipe_between(self, in_port: Any, out_port: Any) -> WeightPipe | None:
        for pipe in in_port.view.connected_pipes:
            if pipe.output_port is out_port.view:
                return pipe  # type: ignore[no-any-return]
        return None

    def _draw_wire(self, key: WireKey, w: Any) -> None:
        to, frm = key
        a, b = self._node(to[:2]), self._node(frm[:2])
        if a is None or b is None:
            return  # a neuron that is not drawn (an unknown type)
        ip, op = a.get_input(to[2]), b.get_output(frm[2])
        if ip is None or op is None:
            return
        pipe = self.pipes.get(key)
        if pipe is None or pipe.scene() is None:
            pipe = self._pipe_between(ip, op)  # the viewer may have drawn it itself
            if pipe is None:
                # a pipe taken out earlier (undo of a delete) goes back as it was
                pipe = self.graph.link(ip, op, self._spare_pipes.pop(key, None))
                if pipe is None:
                    return
                if pipe.label is not None:
                    pipe.label.setVisible(self.viewer.labels_shown)
            self.pipes[key] = pipe
        pipe.set_weight(w, self.live is not None and self.doc.network.weight(*key) != w)
        self.shown[key] = w
        self._wires_at.setdefault(to[:2], set()).add(key)  # type: ignore[index]
        self._wires_at.setdefault(frm[:2], set()).add(key)  # type: ignore[index]

    def _forget_wire(self, key: WireKey) -> None:
        """Forget a drawn wire (its pipe is gone or going)."""
        self.shown.pop(key, None)
        self.pipes.pop(key, None)
        for nid in (key[0][:2], key[1][:2]):
            keys = self._wires_at.get(nid)  # type: ignore[call-overload]
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._wires_at[nid]  # type: ignore[arg-type]

    def _erase_wire(self, key: WireKey) -> None:
        to, frm = key
        self._forget_wire(key)
        a, b = self._node(to[:2]), self._node(frm[:2])
        if a is None or b is None:
            return
        ip, op = a.get_input(to[2]), b.get_output(frm[2])
        if ip is not None and op is not None:
            pipe = self.graph.unlink(ip, op)
            if pipe is not None and to[:2] in self.nodes and frm[:2] in self.nodes:
                self._spare_pipes[key] = pipe  # kept for an undo (design wires only)

    def _apply_wires(self, target: dict[WireKey, Any], partial: bool = False) -> None:
        """Make the drawn wires equal ``target`` (only its keys when ``partial``)."""
        if partial:
            todo = [(k, w) for k, w in target.items() if self.shown.get(k) != w or k not in self.pipes]
        else:
            for key in self.shown.keys() - target.keys():
                self._erase_wire(key)
            try:  # set differences run in C: a frame that changes little costs little
                todo = list(target.items() - self.shown.items())
            except TypeError:  # a weight that cannot be hashed
                todo = [(k, w) for k, w in target.items() if self.shown.get(k) != w]
        for key, w in todo:
            self._draw_wire(key, w)

    # ------------------------------------------------------------- model signals
    def _design_changed(self) -> None:
        if self.live is None:
            self._design_active_later()  # neurons not in W_0 are dimmed too

    def _on_weight(self, to: Port, frm: Port, _old: Any, new: Any) -> None:
        self._design_changed()
        key = (tuple(to), tuple(frm))
        for nid in (key[0][:2], key[1][:2]):
            if nid in self.runtime and new:
                self._promote(nid)  # type: ignore[arg-type]  # wired in the design now
            node = self.nodes.get(nid)  # type: ignore[arg-type]
            if node is not None and (
                (nid == key[0][:2] and key[0][2] not in node.inputs())
                or (nid == key[1][:2] and key[1][2] not in node.outputs())
            ):
                self._sync_ports(nid)  # type: ignore[arg-type]
        if new:
            self._draw_wire(key, new)  # type: ignore[arg-type]
        else:
            self._erase_wire(key)  # type: ignore[arg-type]
        if self.live is not None:
            self.running.set_weight(key, new)  # type: ignore[arg-type]

    def _on_added(self, nid: NeuronId) -> None:
        self._design_changed()
        if nid in self.runtime:
            self._promote(nid)
        elif nid not in self.nodes:
            self._add_node(nid, self.doc.pos_of(nid) or (0.0, 0.0))
            self._touched = [nid]
            self._fix_scene_rect()

    def _on_removed(self, nid: NeuronId) -> None:
        if self.live is not None:
            self._suppressed.add(nid)  # frames already on their way may still hold it
        node = self.nodes.pop(nid, None)
        if node is None:
            return
        for key in list(self._wires_at.get(nid, ())):
            self._erase_wire(key)
        self._clear_node_connections(node)
        self.by_id.pop(node.id, None)
        # one selection signal for a burst of removals, not one per node (the
        # scene would announce each removed selected item)
        scene = self.viewer.scene()
        was_selected = node.view.isSelected()
        scene.blockSignals(True)
        try:
            node.view.setSelected(False)
            self.graph.remove_node(node, push_undo=False)
        finally:
            scene.blockSignals(False)
        if was_selected:
            self._selection_later()
        self._spare[nid] = node  # undo puts it back without building it again
        self._dimmed.discard(nid)
        self.viewer.node_count = len(self.nodes) + len(self.runtime)

    def _selection_later(self) -> None:
        if not self._selection_pending:
            self._selection_pending = True
            QTimer.singleShot(0, self._selection_now)

    def _selection_now(self) -> None:
        self._selection_pending = False
        self._emit_selection()

    def _on_renamed(self, type: str, old_name: str, new_name: str) -> None:
        self._design_changed()
        old, new = (type, old_name), (type, new_name)
        if self.live is not None:
            self._suppressed.add(old)
            self._drop_runtime([new])  # the design's neuron takes the name
        node = self.nodes.pop(old, None)
        if old in self._dimmed:
            self._dimmed.discard(old)
            self._dimmed.add(new)
        if node is None:
            return
        self.nodes[new] = node
        node._neuron = new  # type: ignore[attr-defined]
        self.by_id[node.id] = new
        node.model.name = new[1]
        node.view.name = new[1]
        node.view.draw_node()
        ren = {}
        for key in self._wires_at.get(old, ()):
            to, frm = key
            nto = (*new, to[2]) if to[:2] == old else to
            nfrm = (*new, frm[2]) if frm[:2] == old else frm
            ren[key] = (nto, nfrm)
        for key, nkey in ren.items():
            w, pipe = self.shown.get(key), self.pipes.get(key)
            self._forget_wire(key)
            if w is not None:
                self.shown[nkey] = w
            if pipe is not None:
                self.pipes[nkey] = pipe
            for nid in (nkey[0][:2], nkey[1][:2]):
                self._wires_at.setdefault(nid, set()).add(nkey)  # type: ignore[arg-type]
        if self.live is not None and ren:
            wires = self.running.wires
            for key, nkey in ren.items():
                if key in wires:  # type: ignore[operator]
                    wires[nkey] = wires.pop(key)  # type: ignore[index,union-attr]

    def _on_moved_in_model(self, nid: NeuronId, pos: tuple[float, float]) -> None:
        node = self.nodes.get(nid)
        if node is None:
            return
        x, y = float(pos[0]), float(pos[1])
        if tuple(node.view.xy_pos) != (x, y):
            node.view.xy_pos = [x, y]
            node.model.pos = [x, y]
        self._touched = [nid]
        self._fix_scene_rect()

    def _on_output(self, nid: NeuronId, output: str, _old: Any, _new: Any) -> None:
        node = self.nodes.get(nid)
        if node is not None and self.registry.get(nid[0]).variadic_outputs and output not in node.outputs():
            self._sync_ports(nid)


UNDECLARED_COLOR = (214, 39, 40, 255)


def mark_undeclared(port: Any, t: Any, side: str, name: str) -> None:
    """Mark a port the neuron's type does not declare (a row into it computes
    nothing): drawn red, with a tooltip that says so."""
    declared = t.has_input(name) if side == "in" else t.has_output(name)
    if declared:
        return
    port.view.color = UNDECLARED_COLOR
    port.view.border_color = UNDECLARED_COLOR
    kind, have = ("input", t.inputs) if side == "in" else ("output", t.outputs)
    port.view.setToolTip(
        f"{name!r} is no {kind} of {t.id} (its {kind}s: {', '.join(have) or 'none'}): "
        + ("the row into it computes nothing" if side == "in" else "wires from it read nothing")
        + ". Move the wire to a declared port, or delete it."
    )
    port.view.undeclared = True
