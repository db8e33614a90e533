"""Every NodeGraphQt subclass, private override and monkeypatch of the studio.

NodeGraphQt is used as a drawing and gesture library; what it would edit by
itself is turned into requests here. This is the one module that touches
NodeGraphQt's private names: ``PRIVATES`` lists each one it relies on (a test
checks that the installed NodeGraphQt still has them, and pyproject.toml pins
NodeGraphQt below its next minor version).

- ``WeightPipe``: a pipe that shows its weight (installed as the viewer's
  ``PipeItem``: the one monkeypatch);
- ``NeuronNodeItem`` / ``NeuronNode`` / ``node_class``: node items with a type
  label, dimming, a cost badge, the run-time look and a cheap zoomed-out drawing;
- ``DMMViewer``: the viewer tuned for size (level of detail, no antialiasing
  while dragging a big graph), Tab search, wire double-clicks, our menus;
- ``DMMGraph``: the graph whose user gestures become signals (requests).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import NodeGraphQt.widgets.viewer as _ngviewer
from NodeGraphQt import BaseNode, NodeGraph
from NodeGraphQt.constants import PortTypeEnum
from NodeGraphQt.qgraphics.node_base import NodeItem
from NodeGraphQt.qgraphics.pipe import PipeItem
from NodeGraphQt.widgets.viewer import NodeViewer
from PySide6.QtCore import QEvent, QMimeData, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QToolTip,
    QWidget,
)

from ...network import Port
from ...registry import NeuronType
from .look import RUNTIME_COLOR, TYPE_MIME, NeuronId, format_weight

# The private names of NodeGraphQt this module relies on: (module, class or
# None, attribute). tests/gui/test_canvas_ngqt.py checks each one exists.
PRIVATES: list[tuple[str, str | None, str]] = [
    ("NodeGraphQt.widgets.viewer", None, "PipeItem"),  # the monkeypatch below
    ("NodeGraphQt.qgraphics.pipe", "PipeItem", "_dir_pointer"),
    ("NodeGraphQt.qgraphics.node_base", "NodeItem", "_input_items"),
    ("NodeGraphQt.qgraphics.node_base", "NodeItem", "_output_items"),
    ("NodeGraphQt.qgraphics.node_base", "NodeItem", "_proxy_mode"),
    ("NodeGraphQt.qgraphics.node_base", "NodeItem", "_paint_horizontal"),
    ("NodeGraphQt.qgraphics.node_base", "NodeItem", "_paint_vertical"),
    ("NodeGraphQt.qgraphics.node_base", "NodeItem", "set_proxy_mode"),
    ("NodeGraphQt.qgraphics.node_base", "NodeItem", "auto_switch_mode"),
    ("NodeGraphQt.widgets.viewer", "NodeViewer", "_LIVE_PIPE"),
    ("NodeGraphQt.widgets.viewer", "NodeViewer", "_detached_port"),
    ("NodeGraphQt.widgets.viewer", "NodeViewer", "_start_port"),
    ("NodeGraphQt.widgets.viewer", "NodeViewer", "_items_near"),
    ("NodeGraphQt.widgets.viewer", "NodeViewer", "_scene_range"),
    ("NodeGraphQt.widgets.viewer", "NodeViewer", "_node_positions"),  # notes.py: a backdrop's drag
    ("NodeGraphQt.widgets.viewer", "NodeViewer", "_update_scene"),
    ("NodeGraphQt.widgets.viewer", "NodeViewer", "establish_connection"),
    ("NodeGraphQt.widgets.viewer", "NodeViewer", "end_live_connection"),
    ("NodeGraphQt.base.graph", "NodeGraph", "_model"),
    ("NodeGraphQt.base.model", "NodeGraphModel", "nodes"),  # put_back
    ("NodeGraphQt.base.model", "PortModel", "connected_ports"),  # link, unlink
    ("NodeGraphQt.qgraphics.port", "PortItem", "connected_pipes"),
    ("NodeGraphQt.qgraphics.pipe", "PipeItem", "set_connections"),
    ("NodeGraphQt.qgraphics.pipe", "PipeItem", "delete"),
    ("NodeGraphQt.qgraphics.pipe", "PipeItem", "reset"),
    ("NodeGraphQt.base.graph", "NodeGraph", "_on_connection_changed"),
    ("NodeGraphQt.base.graph", "NodeGraph", "_on_connection_sliced"),
    ("NodeGraphQt.base.graph", "NodeGraph", "_on_insert_node"),
    ("NodeGraphQt.base.graph", "NodeGraph", "_on_nodes_moved"),
    ("NodeGraphQt.base.graph", "NodeGraph", "_on_node_name_changed"),
    ("NodeGraphQt.base.graph", "NodeGraph", "_on_search_triggered"),
    ("NodeGraphQt.base.graph", "NodeGraph", "_on_node_data_dropped"),
]


# ------------------------------------------------------------------ wires
class WeightPipe(PipeItem):
    """A NodeGraphQt pipe that shows its weight on a label item of its own.

    Painting stays in C++ (``QGraphicsPathItem.paint``: NodeGraphQt's Python
    ``paint`` costs a Python call per wire per frame), there is no pixmap
    cache (a long wire's cache is as big as the view, and blitting hundreds of
    them costs more than drawing the path), and the label is a child item
    moved only when the path is redrawn. Zoomed out, labels are hidden
    (``DMMViewer`` toggles them when the zoom crosses ``LABEL_LOD``).
    """

    paint = QGraphicsPathItem.paint  # type: ignore[assignment]

    def __init__(self, input_port: Any = None, output_port: Any = None) -> None:
        super().__init__(input_port, output_port)
        self.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self._dir_pointer.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self.weight: Any = None
        self.live_only = False  # a wire of W_t that the design does not have
        self.label: QGraphicsRectItem | None = None

    def set_weight(self, w: Any, live_only: bool = False) -> None:
        self.weight, self.live_only = w, live_only
        if self.label is None:
            self.label = QGraphicsRectItem(-20, -8, 40, 16, self)
            self.label.setPen(QPen(Qt.PenStyle.NoPen))
            self.label.setBrush(LOOK["label_bg"])
            self.label.text = QGraphicsSimpleTextItem(self.label)  # type: ignore[attr-defined]
            self.label.text.setFont(_LABEL_FONT)  # type: ignore[attr-defined]
            viewer = self.scene().viewer() if self.scene() is not None else None
            self.label.setVisible(getattr(viewer, "labels_shown", True))
        t = self.label.text  # type: ignore[attr-defined]
        t.setText(format_weight(w))
        t.setBrush(RUNTIME_COLOR if live_only else LOOK["label_fg"])
        self.label.setToolTip(
            "weight of the running matrix W_t (the design's differs: the network or an edit changed it)"
            if live_only
            else ""
        )
        br = t.boundingRect()
        # the box fits the text (a weight such as -0.333333 is wider than 1)
        wd = max(24.0, br.width() + 8)
        self.label.setRect(-wd / 2, -8, wd, 16)
        t.setPos(-br.width() / 2, -br.height() / 2)
        self._place_label()

    thickness: float | None = None  # a pen width set by a view (the Train panel: by |w|); None: 2

    def set_thickness(self, width: float | None) -> None:
        """Draw the wire this wide (None: NodeGraphQt's width); hover and
        selection still draw it their way, and it comes back after them."""
        self.thickness = width
        if not (self.active() or self.highlighted()):
            pen = self.pen()
            pen.setWidthF(2.0 if width is None else float(width))
            self.setPen(pen)

    def reset(self) -> None:
        super().reset()
        if self.thickness is not None:
            self.set_thickness(self.thickness)

    def _place_label(self) -> None:
        """Beside the direction arrow (a child item at the middle of the path),
        off the wire: above a wire that runs across, right of one that runs up
        or down (a label above a vertical wire would cover it)."""
        if self.label is None:
            return
        path = self.path()
        mid = path.pointAtPercent(0.5)
        a = math.radians(path.angleAtPercent(0.5))
        nx, ny = -math.sin(a), -math.cos(a)  # a normal of the path, in scene coordinates
        if abs(ny) >= 0.5:
            if ny > 0:
                nx, ny = -nx, -ny  # above
        elif nx < 0:
            nx, ny = -nx, -ny  # right
        r = self.label.rect()
        d = abs(nx) * r.width() / 2 + abs(ny) * r.height() / 2 + 9
        self.label.setPos(mid.x() + nx * d, mid.y() + ny * d)

    def draw_path(self, start_port: Any, end_port: Any = None, cursor_pos: Any = None) -> None:
        super().draw_path(start_port, end_port, cursor_pos)
        self._place_label()


# colours that the theme sets (gui/theme.py restyles the items already drawn)
LOOK = {
    "label_bg": QColor(30, 30, 34, 230),  # a weight label's box
    "label_fg": QColor(225, 225, 225),  # its text
    "type_fg": QColor(190, 190, 190),  # the type above a node
}

_LABEL_FONT = QFont()
_LABEL_FONT.setPointSizeF(8)


# the viewer builds its pipes from this module global: make them ours
_ngviewer.PipeItem = WeightPipe


# ------------------------------------------------------------------ nodes
_RUNTIME_PEN = QPen(RUNTIME_COLOR, 1.6, Qt.PenStyle.DashLine)
_RUNTIME_PEN_WIDE = QPen(RUNTIME_COLOR, 4, Qt.PenStyle.DashLine)


class NeuronNodeItem(NodeItem):
    """Node item with a type label, dimming, and a cheap zoomed-out drawing.

    Level of detail is set by the viewer when the zoom crosses ``NODE_LOD``
    (``set_detail``), not decided in every ``paint`` as NodeGraphQt does
    (its ``auto_switch_mode`` maps the node to global coordinates per paint).
    """

    def __init__(self, name: str = "node", parent: QGraphicsItem | None = None) -> None:
        super().__init__(name, parent)
        self.type_label = QGraphicsSimpleTextItem("", self)
        self.type_label.setBrush(LOOK["type_fg"])
        f = QFont()
        f.setPointSizeF(7.5)
        self.type_label.setFont(f)
        self.type_label.setPos(4, -16)

    def set_detail(self, detail: bool) -> None:
        self.set_proxy_mode(not detail)
        self.type_label.setVisible(detail)
        for port in list(self._input_items) + list(self._output_items):
            # transparent, not hidden: a hidden port gets no scene-position
            # changes, and its wires would not follow the node
            port.setOpacity(1.0 if detail else 0.0)

    runtime = False  # a neuron that only W_t has (the network made it while running)

    def set_runtime(self) -> None:
        """Look of a run-time neuron: dashed amber outline, "run-time" tag, fixed title."""
        self.runtime = True
        self.type_label.setText(f"{self.type_label.text()}  \u00b7 run-time")
        self.type_label.setBrush(RUNTIME_COLOR)
        self.text_item.set_locked(True)  # its name is the network's, not editable
        self.setToolTip("made by the network at run time (through Self's delta): not in the design")
        self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._proxy_mode:
            painter.fillRect(self.boundingRect(), QColor(*self.color[:3]))
            if self.selected:
                painter.setPen(QPen(QColor(255, 220, 120), 4))
                painter.drawRect(self.boundingRect())
            elif self.runtime:
                painter.setPen(_RUNTIME_PEN_WIDE)
                painter.drawRect(self.boundingRect())
            return
        if self.layout_direction == 0:
            self._paint_horizontal(painter, option, widget)
        else:
            self._paint_vertical(painter, option, widget)
        if self.runtime:
            painter.setPen(_RUNTIME_PEN)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(self.boundingRect().adjusted(1.5, 1.5, -1.5, -1.5), 4.0, 4.0)

    def auto_switch_mode(self) -> None:  # the viewer sets the level of detail
        return

    cost_badge: QGraphicsRectItem | None = None

    def set_cost(self, text: str | None, level: float = 0.0) -> None:
        """A small badge above the node's top-right corner (the time its function
        takes per step); None hides it. Drawn on items of our own: no property
        of the node changes (``set_property`` relays the whole node out)."""
        badge = self.cost_badge
        if text is None:
            if badge is not None:
                badge.setVisible(False)
            return
        if badge is None:
            badge = self.cost_badge = QGraphicsRectItem(0, 0, 10, 14, self)
            badge.setPen(QPen(Qt.PenStyle.NoPen))
            badge.text = QGraphicsSimpleTextItem(badge)  # type: ignore[attr-defined]
            badge.text.setFont(_LABEL_FONT)  # type: ignore[attr-defined]
            badge.text.setBrush(QColor(20, 20, 20))  # type: ignore[attr-defined]
            badge.setZValue(2)
        label = badge.text  # type: ignore[attr-defined]
        if label.text() != text:
            label.setText(text)
            br = label.boundingRect()
            badge.setRect(0, 0, br.width() + 8, 14)
            label.setPos(4, 7 - br.height() / 2)
        level = min(1.0, max(0.0, level))
        # green (cheap) to red (the dearest neuron)
        badge.setBrush(QColor(int(120 + 135 * level), int(210 - 130 * level), 110, 230))
        badge.setPos(self.boundingRect().width() - badge.rect().width() - 2, -17)
        badge.setVisible(True)


class NeuronNode(BaseNode):
    """Base of the generated node classes: one per registered neuron type."""

    __identifier__ = "dmm"
    NODE_NAME = "neuron"
    NEURON_TYPE = ""

    def __init__(self) -> None:
        super().__init__(qgraphics_item=NeuronNodeItem)
        self.set_port_deletion_allowed(True)
        self.view.type_label.setText(self.NEURON_TYPE)

    @property
    def neuron(self) -> NeuronId:
        return self._neuron  # type: ignore[no-any-return]


_CLASSES: dict[str, type[NeuronNode]] = {}


def node_class(t: NeuronType) -> type[NeuronNode]:
    """The canvas node class for a neuron type, generated from its declaration."""
    cls = _CLASSES.get(t.id)
    if cls is None:
        cname = "N_" + re.sub(r"\W", "_", t.id)
        cls = type(cname, (NeuronNode,), {"NODE_NAME": t.id, "NEURON_TYPE": t.id, "__doc__": t.doc})
        _CLASSES[t.id] = cls
    return cls


# ------------------------------------------------------------------ viewer and graph
LABEL_LOD = 0.7  # below this zoom, wires hide their weight labels
NODE_LOD = 0.45  # below this zoom, nodes draw as plain boxes without text or ports


class DMMViewer(NodeViewer):
    """NodeViewer tuned for size, with Tab search and wire double-clicks."""

    tab_requested = Signal(QPointF)
    pipe_double_clicked = Signal(object, QPointF)
    labels_shown = True
    detail_shown = True

    DRAG_FAST_NODES = 150  # from this many nodes, a drag paints without antialiasing
    dragging = False
    node_count = 0  # kept by the Canvas

    def mousePressEvent(self, event: Any) -> None:
        super().mousePressEvent(event)
        panning = self.MMB_state or (self.LMB_state and self.ALT_state)
        moving_nodes = (
            event.button() == Qt.MouseButton.LeftButton
            and not self._LIVE_PIPE.isVisible()
            and any(isinstance(i, NeuronNodeItem) for i in self.scene().selectedItems())
        )
        if panning or moving_nodes:
            self.dragging = True
            if self.node_count >= self.DRAG_FAST_NODES:
                self.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def mouseReleaseEvent(self, event: Any) -> None:
        super().mouseReleaseEvent(event)
        if self.dragging:
            self.dragging = False
            self._restore_smooth()

    def wheelEvent(self, event: Any) -> None:
        # zooming a big graph: fast frames while the wheel turns, smooth after
        if self.node_count >= self.DRAG_FAST_NODES:
            self.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            self._smooth_timer.start(250)
        super().wheelEvent(event)

    def _restore_smooth(self) -> None:
        if self.detail_shown and not self.dragging:
            self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self.viewport().update()

    def _zoom_changed(self) -> None:
        z = self.transform().m11()
        labels, detail = z >= LABEL_LOD, z >= NODE_LOD
        if labels == self.labels_shown and detail == self.detail_shown:
            return
        # zoomed out, nothing is antialiased (it is most of the cost of a frame)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, detail)
        lab_change, det_change = labels != self.labels_shown, detail != self.detail_shown
        self.labels_shown, self.detail_shown = labels, detail
        for item in self.scene().items():
            if lab_change and isinstance(item, WeightPipe) and item.label is not None:
                item.label.setVisible(labels)
            elif det_change and isinstance(item, NeuronNodeItem):
                item.set_detail(detail)

    def scale(self, sx: float, sy: float, pos: Any = None) -> None:
        super().scale(sx, sy, pos)
        self._zoom_changed()

    def fitInView(self, *args: Any) -> None:
        super().fitInView(*args)
        self._zoom_changed()
        self.view_changed.emit()  # pans and zooms all end here (_update_scene)

    view_changed = Signal()  # the visible part of the scene moved or was zoomed

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.view_changed.emit()

    def visible_rect(self) -> QRectF:
        """The part of the scene the viewport shows."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def sync_range(self) -> None:
        """Make NodeGraphQt's ``_scene_range`` what the view shows now, so that its
        next ``_update_scene`` (a pan, a colour change, a resize) keeps the zoom.
        After a plain ``fitInView`` the two differ, and the first pan jumped."""
        s = self.transform().m11()
        vp = self.viewport().rect()
        if s <= 0 or vp.width() <= 4 or vp.height() <= 4:
            return
        c = self.mapToScene(vp.center())
        # fitInView keeps 2 pixels on each side
        w, h = (vp.width() - 4) / s, (vp.height() - 4) / s
        self._scene_range = QRectF(c.x() - w / 2, c.y() - h / 2, w, h)

    def center_on(self, point: QPointF) -> None:
        """Show ``point`` at the viewport's centre, keeping the zoom (NodeGraphQt
        shows its ``_scene_range``, centred)."""
        self._scene_range.translate(point - self._scene_range.center())
        self._update_scene()

    def resetTransform(self) -> None:
        super().resetTransform()
        self._zoom_changed()

    def __init__(self, parent: QWidget | None = None, undo_stack: Any = None) -> None:
        super().__init__(parent, undo_stack=undo_stack)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlags(
            QGraphicsView.OptimizationFlag.DontSavePainterState
            | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing
        )
        self._smooth_timer = QTimer(self)
        self._smooth_timer.setSingleShot(True)
        self._smooth_timer.timeout.connect(self._restore_smooth)

    hover_text: Any = None  # scene pos -> str or None (set by the Canvas)

    def viewportEvent(self, ev: Any) -> bool:
        if ev.type() == QEvent.Type.ToolTip and self.hover_text is not None:
            text = self.hover_text(self.mapToScene(ev.pos()))
            if text:
                QToolTip.showText(ev.globalPos(), text, self.viewport())
                return True
        return super().viewportEvent(ev)

    def event(self, ev: Any) -> bool:
        if ev.type() == ev.Type.KeyPress and ev.key() == Qt.Key.Key_Tab and not self._LIVE_PIPE.isVisible():
            self.tab_requested.emit(self.mapToScene(self.mapFromGlobal(self.cursor().pos())))
            return True
        return super().event(ev)

    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(TYPE_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(TYPE_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    pipe_established = Signal(object)

    def establish_connection(self, start_port: Any, end_port: Any) -> None:
        # the viewer also redraws a wire itself (a click on a wire that moves
        # nothing): tell the canvas, which tracks every pipe with its weight
        super().establish_connection(start_port, end_port)
        for pipe in start_port.connected_pipes:
            if end_port in (pipe.input_port, pipe.output_port):
                self.pipe_established.emit(pipe)

    def mouseDoubleClickEvent(self, event: Any) -> None:
        # a double-click on a wire edits its weight (and does not detach it)
        if self._LIVE_PIPE.isVisible():
            if self._detached_port is not None and self._start_port is not None:
                self.establish_connection(self._start_port, self._detached_port)
            self._detached_port = None
            self.end_live_connection()
        pos = self.mapToScene(event.position().toPoint())
        for item in self._items_near(pos, None, 8, 8):
            if isinstance(item, WeightPipe):
                self.pipe_double_clicked.emit(item, pos)
                return
        super().mouseDoubleClickEvent(event)

    def dropEvent(self, event: Any) -> None:
        pos = self.mapToScene(event.position().toPoint())
        event.setDropAction(Qt.DropAction.CopyAction)
        self.data_dropped.emit(event.mimeData(), pos.toPoint())

    def contextMenuEvent(self, event: Any) -> None:
        # our own menus (the canvas connects context_requested)
        self.context_requested.emit(event.globalPos(), self.mapToScene(event.pos()))

    context_requested = Signal(object, QPointF)


class DMMGraph(NodeGraph):
    """NodeGraph whose user gestures become requests instead of edits."""

    wires_requested = Signal(list, list)  # disconnected, connected: [(to Port, from Port)]
    moved = Signal(dict)  # {node_id: (old xy, new xy)}
    name_edited = Signal(str, str)  # node_id, new name
    type_dropped = Signal(str, QPointF)  # neuron type id, scene pos

    def __init__(self, parent: QObject | None = None) -> None:
        from PySide6.QtGui import QUndoStack

        stack = QUndoStack()
        super().__init__(parent, viewer=DMMViewer(undo_stack=stack), undo_stack=stack)
        self._ng_stack = stack
        self.set_acyclic(False)
        self.set_pipe_collision(False)
        self.set_pipe_slicing(True)

    # names are the model's business (unique per type, not per graph)
    def get_unique_name(self, name: str) -> str:
        return name

    def link(self, ip: Any, op: Any, pipe: WeightPipe | None = None) -> WeightPipe | None:
        """Connect input port ``ip`` to output port ``op`` as NodeGraphQt's own
        undo does (its bookkeeping, then the items): no checks, no command, no
        signal. ``pipe``: a pipe taken out with ``unlink`` to put back instead of
        building a new one. Returns the pipe."""
        ip.model.connected_ports[op.node().id].append(op.name())
        op.model.connected_ports[ip.node().id].append(ip.name())
        if pipe is None:
            ip.view.connect_to(op.view)
            return next((p for p in ip.view.connected_pipes if p.output_port is op.view), None)
        self.scene().addItem(pipe)
        pipe.set_connections(ip.view, op.view)
        if pipe.isSelected():
            pipe.setSelected(False)
        if pipe.active() or pipe.highlighted():
            pipe.reset()
        pipe.draw_path(pipe.input_port, pipe.output_port)
        return pipe

    def unlink(self, ip: Any, op: Any) -> WeightPipe | None:
        """Disconnect ``ip`` from ``op`` (the reverse of ``link``); returns the
        pipe taken out of the scene (kept whole, for ``link`` to put back)."""
        names = ip.model.connected_ports.get(op.node().id)
        if names and op.name() in names:
            names.remove(op.name())
        names = op.model.connected_ports.get(ip.node().id)
        if names and ip.name() in names:
            names.remove(ip.name())
        pipe = next((p for p in ip.view.connected_pipes if p.output_port is op.view), None)
        if pipe is not None:
            pipe.delete()
        return pipe

    def put_back(self, node: Any, pos: tuple[float, float]) -> None:
        """Put a node taken out with ``remove_node`` back, with its items as they
        were (as NodeGraphQt's own undo of a delete does: ``add_node`` builds a
        node only once)."""
        self.model.nodes[node.id] = node
        self.viewer().add_node(node.view, [pos[0], pos[1]])
        node.model.pos = [pos[0], pos[1]]

    def _port_key(self, view: Any) -> Port:
        node = self._model.nodes[view.node.id]
        return (*node._neuron, view.name)  # type: ignore[return-value]

    def _pairs(self, pairs: Iterable[Any]) -> list[tuple[Port, Port]]:
        out = []
        for a, b in pairs:
            if a.port_type == PortTypeEnum.IN.value:
                a, b = b, a
            out.append((self._port_key(b), self._port_key(a)))  # (to input, from output)
        return out

    def _on_connection_changed(self, disconnected: list[Any], connected: list[Any]) -> None:
        if disconnected or connected:
            self.wires_requested.emit(self._pairs(disconnected), self._pairs(connected))

    def _on_connection_sliced(self, ports: list[Any]) -> None:
        if ports:
            self.wires_requested.emit(self._pairs(ports), [])

    def _on_insert_node(self, pipe: Any, node_id: str, prev_node_pos: dict[Any, Any]) -> None:
        self._on_nodes_moved(prev_node_pos)

    def _on_nodes_moved(self, node_data: dict[Any, Any]) -> None:
        self.moved.emit({view.id: (tuple(prev), tuple(view.xy_pos)) for view, prev in node_data.items()})

    def _on_node_name_changed(self, node_id: str, name: str) -> None:
        self.name_edited.emit(node_id, name)

    def _on_search_triggered(self, node_type: str, pos: Any) -> None:
        self.type_dropped.emit(node_type, QPointF(*pos))

    def _on_node_data_dropped(self, mimedata: QMimeData, pos: Any) -> None:
        if mimedata.hasFormat(TYPE_MIME):
            t = bytes(mimedata.data(TYPE_MIME).data()).decode()
            self.type_dropped.emit(t, QPointF(pos))
