"""What the user does on the canvas, besides drawing: gestures turned into
document edits, context menus, the in-place weight editor, selection, hover
texts, cost badges, framing.

``Interaction`` is a part of ``Canvas``: it reads the canvas's drawing
(``nodes``, ``pipes``, ``shown``, ``runtime``) and calls the ``Document``; it
never edits the drawing of the design itself (the model's signals do).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from NodeGraphQt.constants import PortTypeEnum
from NodeGraphQt.qgraphics.port import PortItem
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu

from ...network import SELF_ID, Port
from ..model_ops import matrix_wires, ports_of
from ..typehelp import doc_html
from .look import NeuronId, WireKey, format_ms, format_weight_exact
from .ngqt import NeuronNodeItem, WeightPipe


class Interaction:
    """Gestures, menus, selection, hover and costs of ``Canvas`` (see the module docstring)."""

    costs_shown = False
    notes: Any  # the backdrops and comments (canvas/notes.py), made by Canvas
    # (kind, key) -> str or None: "port" (type, name, port, side), "wire" (to, frm)
    hover_provider: Any = None

    def _on_wires_requested(
        self, disconnected: list[tuple[Port, Port]], connected: list[tuple[Port, Port]]
    ) -> None:
        if self.live is not None:
            # wires that only W_t has (the network made them): removed from W_t alone
            for key in disconnected:
                if key in self.live and not self.doc.network.weight(*key):
                    self.live.pop(key, None)
                    self.live_weight_requested.emit(key[0], key[1], 0)
        self.doc.rewire(disconnected, connected)
        # the viewer may have removed or drawn pipes itself: redraw what the model says
        target = self.live if self.live is not None else matrix_wires(self.doc.network.matrix)
        for key in set(disconnected) | set(connected):
            pipe = self.pipes.get(key)
            if key in target:
                if pipe is None or pipe.scene() is None:
                    self.pipes.pop(key, None)
                    self.shown.pop(key, None)
                    self._draw_wire(key, target[key])
            else:
                self._erase_wire(key)

    def _on_pipe_established(self, pipe: WeightPipe) -> None:
        if pipe.input_port is None or pipe.output_port is None:
            return
        try:
            key = (self.graph._port_key(pipe.input_port), self.graph._port_key(pipe.output_port))
        except (KeyError, AttributeError):
            return
        if key in self.shown:
            self.pipes[key] = pipe
            pipe.set_weight(self.shown[key])

    def _on_moved(self, moves: dict[str, Any]) -> None:
        m = {}
        for node_id, (old, new) in moves.items():
            nid = self.by_id.get(node_id)
            if nid is not None:
                m[nid] = ((float(old[0]), float(old[1])), (float(new[0]), float(new[1])))
        self.doc.move_neurons(m)

    def _on_name_edited(self, node_id: str, name: str) -> None:
        nid = self.by_id.get(node_id)
        if nid is None:
            return
        if not self.doc.rename_neuron(nid, name):
            node = self.nodes[nid]
            node.model.name = nid[1]
            node.view.name = nid[1]

    def _on_type_dropped(self, type: str, pos: QPointF) -> None:
        nid = self.doc.add_neuron(type, (pos.x(), pos.y()))
        if nid is not None:
            self.select([nid])

    def _edit_pipe_weight(self, pipe: WeightPipe, scene_pos: QPointF) -> None:
        key = next((k for k, p in self.pipes.items() if p is pipe), None)
        if key is not None:
            self.edit_weight_in_place(key, scene_pos)

    def edit_weight_in_place(self, key: WireKey, scene_pos: QPointF | None = None) -> QLineEdit:
        """A line edit over the wire; Enter sets the weight, Escape cancels."""
        pipe = self.pipes.get(key)
        if scene_pos is None and pipe is not None:
            scene_pos = pipe.path().pointAtPercent(0.5)
        p = self.viewer.mapFromScene(scene_pos or QPointF(0, 0))
        edit = QLineEdit(self.viewer)
        edit.setObjectName("weight-editor")
        edit.setText(format_weight_exact(self.shown.get(key, self.doc.network.weight(*key))))
        edit.selectAll()
        edit.setFixedWidth(80)
        edit.move(p.x() - 40, p.y() - 12)

        def commit() -> None:
            text = edit.text().strip()
            edit.hide()
            edit.deleteLater()
            try:
                w = float(text)
            except ValueError:
                self.doc.message.emit(f"a weight is a number, not {text!r}")
                return
            if w.is_integer() and "." not in text and "e" not in text.lower():
                w = int(w)
            self.doc.set_weight(*key, w)

        edit.returnPressed.connect(commit)
        edit.editingFinished.connect(lambda: edit.isVisible() and edit.hide())
        edit.show()
        edit.setFocus()
        self.weight_editor = edit
        return edit

    def _context_menu(self, global_pos: Any, scene_pos: QPointF) -> None:
        menu = self.context_menu_at(scene_pos)
        if menu is not None:
            menu.exec(global_pos)

    def context_menu_at(self, scene_pos: QPointF) -> QMenu | None:
        """The menu for the node under ``scene_pos`` (ports of variadic types), or the canvas."""
        item = self.viewer.scene().itemAt(scene_pos, self.viewer.transform())
        while item is not None and not isinstance(item, NeuronNodeItem):
            item = item.parentItem()
        if item is None:
            note = self.notes.item_at(scene_pos)
            if note is not None:
                return self.notes.menu_for(note, self.viewer)  # type: ignore[no-any-return]
        menu = QMenu(self.viewer)
        if item is None:
            menu.addAction("Frame all", self.frame_all)
            menu.addSeparator()
            menu.addAction("Add comment here", lambda: self.notes.add_comment(scene_pos))
            menu.addAction(
                "Add backdrop around selection" if self.selected_neurons() else "Add backdrop",
                self.notes.add_backdrop,
            )
            return menu
        if item.id in self.runtime_by_id:
            f, n = self.runtime_by_id[item.id]
            menu.setTitle(f"{f}/{n}")
            info = menu.addAction(f"{f}/{n}: made by the network while running (not in the design)")
            info.setEnabled(False)
            menu.addAction("Frame all", self.frame_all)
            return menu
        nid = self.by_id[item.id]
        return self.node_menu(nid, menu)

    def node_menu(self, nid: NeuronId, menu: QMenu | None = None) -> QMenu:
        menu = menu or QMenu(self.viewer)
        t = self.registry.get(nid[0])
        menu.setTitle(f"{nid[0]}/{nid[1]}")
        ins, outs = ports_of(self.doc.network, nid, self.registry)
        for side, variadic, have, declared in (
            ("inputs", t.variadic_inputs, ins, t.inputs),
            ("outputs", t.variadic_outputs, outs, t.outputs),
        ):
            if not variadic or (t.mirror and side == "outputs"):
                continue
            word = "port" if t.mirror else side[:-1]
            menu.addAction(f"Add {word}...", lambda s=side: self._ask_port(nid, s))
            extra = [p for p in have if p not in declared]
            if extra:
                ren = menu.addMenu(f"Rename {word}")
                rem = menu.addMenu(f"Remove {word}")
                for p in extra:
                    ren.addAction(p, lambda s=side, p=p: self._ask_rename_port(nid, s, p))
                    rem.addAction(p, lambda s=side, p=p: self.doc.remove_port(nid, s, p))
        if self.help_requested is not None:
            menu.addAction(f"Help on {nid[0]}", lambda: self.help_requested(nid[0]))
        if nid != SELF_ID:
            menu.addSeparator()
            menu.addAction("Delete", lambda: self.doc.remove_neurons([nid]))
        return menu

    help_requested: Any = None  # type id -> None (set by gui/typehelp's install)

    def _ask_port(self, nid: NeuronId, side: str) -> None:
        name, ok = QInputDialog.getText(self.viewer, "Add port", f"New {side[:-1]} of {nid[0]}/{nid[1]}:")
        if ok and name:
            self.doc.add_port(nid, side, name)

    def _ask_rename_port(self, nid: NeuronId, side: str, old: str) -> None:
        name, ok = QInputDialog.getText(self.viewer, "Rename port", f"New name for {old}:", text=old)
        if ok and name:
            self.doc.rename_port(nid, side, old, name)

    def selected_neurons(self) -> list[NeuronId]:
        out = []
        for item in self.viewer.scene().selectedItems():
            if isinstance(item, NeuronNodeItem) and item.id in self.by_id:
                out.append(self.by_id[item.id])
        return out

    def selected_runtime(self) -> list[NeuronId]:
        """The run-time neurons selected (they are not in ``selected_neurons``)."""
        return [
            self.runtime_by_id[i.id]
            for i in self.viewer.scene().selectedItems()
            if isinstance(i, NeuronNodeItem) and i.id in self.runtime_by_id
        ]

    def selected_wires(self) -> list[WireKey]:
        pipes = {id(p): k for k, p in self.pipes.items()}
        return [pipes[id(i)] for i in self.viewer.scene().selectedItems() if id(i) in pipes]

    def select(self, ids: Iterable[NeuronId]) -> None:
        scene = self.viewer.scene()
        scene.clearSelection()
        for nid in ids:
            node = self._node(nid)
            if node is not None:
                node.view.setSelected(True)
        self._emit_selection()

    def show_costs(self, costs: dict[NeuronId, float] | None) -> None:
        """A badge on each node with the milliseconds its function takes per step
        (``{neuron: ms}``; ``(type, "*")`` is a whole type's time, when the engine
        computes a type at once); None hides the badges."""
        self.costs_shown = costs is not None
        nodes = [*self.nodes.items(), *self.runtime.items()]
        if costs is None:
            for _nid, node in nodes:
                node.view.set_cost(None)
            return
        per_type = {k[0]: v for k, v in costs.items() if k[1] == "*"}
        top = max(costs.values(), default=0.0) or 1.0
        for nid, node in nodes:
            if nid in costs:
                ms, text = costs[nid], format_ms(costs[nid])
            elif nid[0] in per_type:
                ms = per_type[nid[0]]
                text = f"{format_ms(ms)} /type"
            else:  # not measured (the compiled engine computes Self apart): no badge
                node.view.set_cost(None)
                continue
            node.view.set_cost(text, ms / top)

    def hover_target(self, scene_pos: QPointF) -> tuple[str, Any] | None:
        """What is under ``scene_pos``: ``("port", (type, name, port, "input"|"output"))``,
        ``("wire", (to, frm))`` or None."""
        pipes = {id(p): k for k, p in self.pipes.items()}
        for item in self.viewer.scene().items(scene_pos):
            if isinstance(item, PortItem):
                node_item = item.parentItem()
                nid = self.by_id.get(node_item.id) or self.runtime_by_id.get(node_item.id)
                if nid is None:
                    continue
                side = "input" if item.port_type == PortTypeEnum.IN.value else "output"
                return "port", (nid[0], nid[1], item.name, side)
            owner = item  # a pipe, its weight label or the label's text
            while owner is not None and id(owner) not in pipes and not isinstance(owner, NeuronNodeItem):
                owner = owner.parentItem()
            if owner is None:
                continue
            if isinstance(owner, NeuronNodeItem):
                return None  # a node covers what lies under it
            return "wire", pipes[id(owner)]
        return None

    def hover_text_at(self, scene_pos: QPointF) -> str | None:
        """The hover text for what is under ``scene_pos``: a port's or a wire's
        value (from ``hover_provider``), else the documentation of the type of
        the node under it (``type_tip``)."""
        target = self.hover_target(scene_pos)
        if target is not None and self.hover_provider is not None:
            text = self.hover_provider(*target)
            if text:
                return text  # type: ignore[no-any-return]
        nid = self.node_at(scene_pos)
        if nid is None:
            return None
        text = self.type_tip(self.registry.get(nid[0]))
        if nid in self.runtime:
            text = "<p><i>made by the network at run time (through Self's delta): not in the design</i></p>" + text
        return text  # type: ignore[no-any-return]

    @staticmethod
    def type_tip(t: Any) -> str:
        """A node's hover: its type's documentation, in brief (``typehelp.doc_html``)."""
        return doc_html(t, brief=True)

    def node_at(self, scene_pos: QPointF) -> NeuronId | None:
        """The neuron whose node is drawn under ``scene_pos`` (design or run-time), or None."""
        for item in self.viewer.scene().items(scene_pos):
            while item is not None and not isinstance(item, NeuronNodeItem):
                item = item.parentItem()
            if item is not None:
                nid = self.by_id.get(item.id) or self.runtime_by_id.get(item.id)
                if nid is not None:
                    return nid
        return None

    def select_wire(self, to: Port, frm: Port) -> bool:
        """Select the wire ``frm -> to`` alone (``wire_selected`` follows); False
        when the canvas does not draw it."""
        pipe = self.pipes.get((tuple(to), tuple(frm)))  # type: ignore[arg-type]
        if pipe is None or pipe.scene() is None:
            return False
        scene = self.viewer.scene()
        scene.blockSignals(True)
        scene.clearSelection()
        scene.blockSignals(False)
        pipe.setSelected(True)
        self.viewer.ensureVisible(pipe.label if pipe.label is not None else pipe, 40, 40)
        self._emit_selection()
        return True

    def select_all(self) -> None:
        self.select(list(self.nodes))

    def _emit_selection(self) -> None:
        try:
            sel = self.selected_neurons()
        except RuntimeError:  # the scene is going away
            return
        self.selection_changed.emit(sel)
        rt = self.selected_runtime() if not sel else []
        self.runtime_selected.emit(rt[0] if len(rt) == 1 else None)
        wires = self.selected_wires() if not sel and not rt else []
        self.wire_selected.emit(wires[0] if wires else None)

    def frame_all(self, ids: Iterable[NeuronId] | None = None) -> None:
        """Fit the view to the nodes (fitInView over their united rectangles;
        with no ``ids``, every node, backdrop and comment)."""
        whole = ids is None
        ids = list(ids or [*self.nodes, *self.runtime])
        nodes = [n for n in map(self._node, ids) if n is not None]
        if not nodes:
            return
        rect = QRectF()
        for n in nodes:
            rect = rect.united(n.view.sceneBoundingRect())
        notes = getattr(self, "notes", None)
        if whole and notes is not None:  # the backdrops and comments too
            for item in notes.items():
                rect = rect.united(item.sceneBoundingRect())
        rect = rect.adjusted(-60, -60, 60, 60)
        v = self.viewer
        v._scene_range = rect.adjusted(-rect.width(), -rect.height(), rect.width(), rect.height())
        v._update_scene()
        v.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        # a small network is not blown up beyond 1.1
        if v.transform().m11() > 1.1:
            k = v.transform().m11() / 1.1
            c = rect.center()
            big = QRectF(
                c.x() - rect.width() * k / 2,
                c.y() - rect.height() * k / 2,
                rect.width() * k,
                rect.height() * k,
            )
            v._scene_range = big
            v._update_scene()
            v.fitInView(big, Qt.AspectRatioMode.KeepAspectRatio)
        v.sync_range()  # the next pan keeps this zoom

    def pointer_pos(self) -> tuple[float, float] | None:
        """The scene point under the mouse pointer, None when it is not over the canvas."""
        vp = self.viewer.viewport()
        p = vp.mapFromGlobal(QCursor.pos())
        if not vp.rect().contains(p) or not vp.isVisible():
            return None
        s = self.viewer.mapToScene(p)
        return (s.x(), s.y())

    def node_pos(self, nid: NeuronId) -> tuple[float, float]:
        node = self._node(nid)
        if node is None:
            raise KeyError(nid)
        return self._xy(node)
