"""The canvas: a NodeGraphQt view over the Network model.

The canvas never edits itself. NodeGraphQt's own handlers for the user's
gestures (a wire drawn or dragged off, nodes moved, a name typed, a type
dropped or picked with Tab) are replaced by ``DMMGraph`` overrides that call
the ``Document``, which pushes undoable commands on the model; the canvas then
follows the model's events (``Network.subscribe``) and changes NodeGraphQt
with ``push_undo=False``. NodeGraphQt's own undo stack is not used.

Node classes are generated from the registry's declarations (``node_class``).
Wires are ``WeightPipe`` items (NodeGraphQt's pipe with its weight drawn on
it); live changes (weights, the active part) are drawn on our own items and
never go through NodeGraphQt properties, which relayout a node per call.

When the machine runs, ``show_matrix(W_t)`` diffs the wires of ``W_t``
against what is drawn: wires appear, vanish and change weight as the network
rewrites itself (a weight that differs from the design's is drawn amber);
design neurons outside the active part are dimmed. Neurons that only ``W_t``
has, made by the network through Self's delta, are drawn as run-time nodes
(``Canvas.runtime``): a dashed amber outline and a "run-time" tag, placed
beside the neurons they are wired to, kept out of the design and its undo
stack, locked against hand-drawn wires and renaming. Choice: a run-time
neuron that leaves ``W_t`` is removed, not dimmed (outside ``W_t`` it has no
output at the next step, and a network that makes many short-lived neurons
would otherwise fill the canvas); if it comes back in the same run it comes
back where it was (also where the user dragged it). Reset
(``show_matrix(None)``) removes every run-time node and the ports that only
``W_t`` used on design nodes. Node and port work is done only when the set of
neurons or of used ports of ``W_t`` changes; a frame whose ``W_t`` equals the
last one costs one dict comparison.

Scaling (see bench/canvas.py): the view repaints only what changed
(``MinimalViewportUpdate``); the scene has no BSP index (re-indexing moving
items was the largest cost of a drag frame); wires paint in C++ without a
pixmap cache; zoomed out, nodes draw as plain boxes (level of detail set
when the zoom crosses a threshold, not per paint), wires lose their labels
and nothing is antialiased; a drag in a big graph paints without
antialiasing until the mouse is released.
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
from NodeGraphQt.qgraphics.port import PortItem
from NodeGraphQt.widgets.viewer import NodeViewer
from PySide6.QtCore import QEvent, QMimeData, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QInputDialog,
    QLineEdit,
    QMenu,
    QStyleOptionGraphicsItem,
    QToolTip,
    QWidget,
)

from ..network import SELF_ID, Port
from ..registry import NeuronType, Registry
from .document import Document
from .model_ops import active_neurons, auto_layout, matrix_wires, ports_index, ports_of

NeuronId = tuple[str, str]
WireKey = tuple[Port, Port]
TYPE_MIME = "application/x-dmm-neuron-type"

FAMILY_COLORS = {
    "core": (45, 90, 140),
    "self": (130, 60, 130),
}
_DEFAULT_COLOR = (70, 90, 80)


def family_color(t: NeuronType) -> tuple[int, int, int]:
    if t.id == SELF_ID[0]:
        return FAMILY_COLORS["self"]
    if t.family in FAMILY_COLORS:
        return FAMILY_COLORS[t.family]
    h = sum(map(ord, t.family)) * 47 % 360
    c = QColor.fromHsv(h, 120, 120)
    return (c.red(), c.green(), c.blue())


def format_ms(ms: float) -> str:
    """A time per step, short: ``0.42 ms``, ``35 \u00b5s``."""
    if ms >= 10:
        return f"{ms:.0f} ms"
    if ms >= 0.1:
        return f"{ms:.2f} ms"
    return f"{ms * 1000:.0f} \u00b5s"


def format_weight(w: Any) -> str:
    if isinstance(w, float) and w.is_integer():
        w = int(w)
    return f"{w:g}" if isinstance(w, float) else str(w)


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
            self.label.setBrush(QColor(30, 30, 34, 230))
            self.label.text = QGraphicsSimpleTextItem(self.label)  # type: ignore[attr-defined]
            self.label.text.setFont(_LABEL_FONT)  # type: ignore[attr-defined]
            viewer = self.scene().viewer() if self.scene() is not None else None
            self.label.setVisible(getattr(viewer, "labels_shown", True))
        t = self.label.text  # type: ignore[attr-defined]
        t.setText(format_weight(w))
        t.setBrush(RUNTIME_COLOR if live_only else QColor(225, 225, 225))
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


_LABEL_FONT = QFont()
_LABEL_FONT.setPointSizeF(8)


# the viewer builds its pipes from this module global: make them ours
_ngviewer.PipeItem = WeightPipe


# ------------------------------------------------------------------ nodes
RUNTIME_COLOR = QColor(255, 200, 90)  # what only W_t has: run-time neurons, live-only weights
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
        self.type_label.setBrush(QColor(190, 190, 190))
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


# ------------------------------------------------------------------ the view over the model
def _ports_used(wires: dict[WireKey, Any]) -> frozenset[Port]:
    """Every port (inputs and outputs) that some wire uses."""
    return frozenset(k[0] for k in wires) | frozenset(k[1] for k in wires)


class Canvas(QObject):
    """Keeps a DMMGraph equal to the Document's Network (and, running, to W_t)."""

    selection_changed = Signal(list)  # [NeuronId]
    live_weight_requested = Signal(object, object, object)  # to, frm, weight: W_t only
    wire_selected = Signal(object)  # (to, frm) or None
    runtime_selected = Signal(object)  # a run-time neuron selected alone, or None
    tab_requested = Signal(QPointF)

    def __init__(self, doc: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.registry: Registry = doc.registry
        self.graph = DMMGraph(self)
        self.viewer: DMMViewer = self.graph.viewer()
        self.widget = self.graph.widget
        self.nodes: dict[NeuronId, NeuronNode] = {}
        self.by_id: dict[str, NeuronId] = {}
        self.pipes: dict[WireKey, WeightPipe] = {}
        self.shown: dict[WireKey, Any] = {}  # the wires drawn, with their weights
        self.live: dict[WireKey, Any] | None = None  # W_t's wires while running
        self._dimmed: set[NeuronId] = set()
        # run-time neurons: in W_t, not in the design (see show_matrix)
        self.runtime: dict[NeuronId, NeuronNode] = {}
        self.runtime_by_id: dict[str, NeuronId] = {}
        self._runtime_pos: dict[NeuronId, tuple[float, float]] = {}  # kept for the run
        self._live_w: Any = None  # the W_t last shown
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
        self._unsub = None
        doc.replaced.connect(self.rebuild)
        doc.ports_changed.connect(self._sync_ports)
        self.rebuild()

    # ------------------------------------------------------------- building
    def rebuild(self) -> None:
        """Throw the drawing away and draw the document's network."""
        if self._unsub is not None:
            self._unsub()
        self._unsub = self.doc.network.subscribe(self._on_model)
        self._drop_runtime(list(self.runtime))
        self._reset_live_state()
        for node in list(self.nodes.values()):
            self._clear_node_connections(node)
            self.graph.remove_node(node, push_undo=False)
        self.nodes.clear()
        self.by_id.clear()
        self.pipes.clear()
        self.shown.clear()
        self.live = None
        self._dimmed.clear()
        net = self.doc.network
        ids = net.neurons()
        missing = [i for i in ids if self.doc.pos_of(i) is None]
        auto = auto_layout(net) if missing else {}
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
            used = self._used.get(nid, ([], [])) if self._building else None
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
                    for key in [k for k in self.pipes if (k[0] if side == "in" else k[1]) == (*nid, name)]:
                        self.pipes.pop(key, None)
                        self.shown.pop(key, None)
                    port.clear_connections(push_undo=False, emit_signal=False)
                    delete(port)
                    changed = True
            for name in want:
                if name not in have:
                    port = add(name, multi_input=True) if side == "in" else add(name, multi_output=True)
                    if runtime:
                        port.view.locked = True  # no wires drawn by hand to or from it
                    changed = True
        if changed and not self._building and redraw:
            node.view.draw_node()
            # wires that could not be drawn without this port
            target = self.live if self.live is not None else matrix_wires(self.doc.network.matrix)
            self._apply_wires({k: w for k, w in target.items() if nid in (k[0][:2], k[1][:2])}, partial=True)

    # ------------------------------------------------------------- wires
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
            ip.connect_to(op, push_undo=False, emit_signal=False)
            pipe = self._pipe_between(ip, op)
            if pipe is None:
                return
            self.pipes[key] = pipe
        pipe.set_weight(w, self.live is not None and self.doc.network.weight(*key) != w)
        self.shown[key] = w

    def _erase_wire(self, key: WireKey) -> None:
        to, frm = key
        self.shown.pop(key, None)
        self.pipes.pop(key, None)
        a, b = self._node(to[:2]), self._node(frm[:2])
        if a is None or b is None:
            return
        ip, op = a.get_input(to[2]), b.get_output(frm[2])
        if ip is not None and op is not None and op in ip.connected_ports():
            ip.disconnect_from(op, push_undo=False, emit_signal=False)

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

    def show_matrix(self, w: dict[str, Any] | None, active: Iterable[NeuronId] | None = None) -> None:
        """Follow a running matrix ``W_t`` (None: back to the design's ``W_0``).

        Wires appear, vanish and change weight with ``W_t``. Neurons that
        ``W_t`` has and the design does not (the network made them through
        Self's delta) are drawn as run-time nodes: a dashed amber outline and a
        "run-time" tag, placed next to the neurons they are wired to, outside
        the design and its undo stack; they are removed when they leave
        ``W_t`` (a neuron outside ``W_t`` has no output at the next step) and
        come back at the same place, and all of them go on ``show_matrix(None)``
        (Reset), with the ports that only ``W_t`` used. ``active``: the
        neurons of ``w`` when the caller has them (the runner's frames do).

        Cost: nothing when ``W_t`` equals the last one shown; otherwise one
        pass over its wires, and node or port work only for what changed.
        """
        if w is None:
            self._end_live()
            return
        if self.live is not None and self._same_matrix(w):
            return
        target = matrix_wires(w)
        first = self.live is None
        self.live = target
        self._live_w = w
        if first:
            # what is drawn now: the design's ports
            self._live_used = _ports_used(matrix_wires(self.doc.network.matrix))
        used = _ports_used(target)
        touched: set[NeuronId] = set()
        if used != self._live_used:
            self._live_ports = ports_index(target)
            touched = {p[:2] for p in used ^ self._live_used}  # type: ignore[misc]
            self._live_used = used
        neurons = frozenset(active) if active is not None else frozenset(active_neurons(w))
        if first or neurons != self._live_neurons:
            new = self._follow_neurons(neurons, target)
            touched -= new
            self._live_neurons = neurons
            self.set_active(set(neurons))
        for nid in touched:
            self._sync_ports(nid, redraw=False)
        if first:
            for pipe in self.pipes.values():
                if pipe.live_only:
                    pipe.set_weight(pipe.weight, False)
        self._apply_wires(target)

    def _same_matrix(self, w: Any) -> bool:
        if w is self._live_w:
            return True
        try:
            return bool(w == self._live_w)
        except (TypeError, RuntimeError, ValueError):  # tensors in the matrix
            return False

    def _reset_live_state(self) -> None:
        self.live = None
        self._live_w = None
        self._live_neurons = frozenset()
        self._live_used = frozenset()
        self._live_ports = {}
        self._runtime_pos.clear()
        self._suppressed.clear()

    def _end_live(self) -> None:
        """Back to the design: run-time nodes and ports go, wires are W_0's."""
        self._drop_runtime(list(self.runtime))
        self._reset_live_state()
        for pipe in self.pipes.values():
            if pipe.live_only:
                pipe.set_weight(pipe.weight, False)
        self._apply_wires(matrix_wires(self.doc.network.matrix))
        for nid in list(self._ported):
            self._sync_ports(nid)
        self._ported.clear()
        self.set_active(active_neurons(self.doc.network.matrix))

    # ------------------------------------------------------------- run-time neurons
    def _follow_neurons(self, neurons: frozenset[NeuronId], target: dict[WireKey, Any]) -> set[NeuronId]:
        """Run-time nodes for the neurons of ``W_t`` that the design lacks; returns the new ones."""
        self._suppressed &= neurons  # a neuron removed while running, until W_t drops it
        want = {
            nid
            for nid in neurons
            if nid not in self.nodes and nid not in self._suppressed and nid[0] in self.registry
        }
        gone = [nid for nid in self.runtime if nid not in want]
        if gone:
            self._drop_runtime(gone)
        new = want - self.runtime.keys()
        if new:
            self._place_runtime(new, target)
        return new

    def _place_runtime(self, new: set[NeuronId], target: dict[WireKey, Any]) -> None:
        """Draw new run-time nodes next to the neurons they are wired to."""
        sources: dict[NeuronId, list[NeuronId]] = {n: [] for n in new}
        receivers: dict[NeuronId, list[NeuronId]] = {n: [] for n in new}
        for to, frm in target:
            a, b = to[:2], frm[:2]
            if a != b:
                if a in new:
                    sources[a].append(b)  # type: ignore[index]
                if b in new:
                    receivers[b].append(a)  # type: ignore[index]
        # those wired to drawn nodes first: their places anchor the others
        pending = sorted(new)
        while pending:
            ready = [
                n
                for n in pending
                if n in self._runtime_pos or any(self._node(m) is not None for m in sources[n] + receivers[n])
            ] or pending[:1]
            for nid in ready:
                pos = self._runtime_pos.get(nid) or self._spot_near(sources[nid], receivers[nid])
                node = self._add_node(nid, pos, runtime=True)
                node.view.draw_node()
                if nid not in self._runtime_pos:
                    self._clear_spot(node)
                self._runtime_pos[nid] = self._xy(node)
            pending = [n for n in pending if n not in ready]
        self._touched = sorted(new)
        self._fix_scene_rect()

    def _xy(self, node: NeuronNode) -> tuple[float, float]:
        x, y = node.view.xy_pos
        return (float(x), float(y))

    def _spot_near(self, sources: list[NeuronId], receivers: list[NeuronId]) -> tuple[float, float]:
        src = [self._xy(n) for n in map(self._node, sources) if n is not None]
        rcv = [self._xy(n) for n in map(self._node, receivers) if n is not None]
        both = src + rcv
        if not both:  # wired to nothing drawn: right of everything
            xs = [self._xy(n) for n in [*self.nodes.values(), *self.runtime.values()]]
            return (max((x for x, _ in xs), default=0.0) + 300.0, min((y for _, y in xs), default=0.0))
        y = sum(p[1] for p in both) / len(both)
        if src:
            return (sum(p[0] for p in src) / len(src) + 300.0, y)
        return (sum(p[0] for p in rcv) / len(rcv) - 300.0, y)

    def _clear_spot(self, node: NeuronNode) -> None:
        """Move a new node down (or up) until it covers no other node."""
        x, y = self._xy(node)
        scene = self.viewer.scene()
        for k in range(25):
            dy = (k + 1) // 2 * 120.0 * (1 if k % 2 else -1) if k else 0.0
            rect = node.view.sceneBoundingRect().translated(0, y + dy - node.view.xy_pos[1])
            rect = rect.adjusted(-20, -20, 20, 20)
            hit = any(
                isinstance(i, NeuronNodeItem) and i is not node.view
                for i in scene.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
            )
            if not hit:
                if dy:
                    node.view.xy_pos = [x, y + dy]
                    node.model.pos = [x, y + dy]
                return

    def _drop_runtime(self, nids: Iterable[NeuronId]) -> None:
        drop = {n for n in nids if n in self.runtime}
        if not drop:
            return
        for key in [k for k in self.shown if k[0][:2] in drop or k[1][:2] in drop]:
            self._erase_wire(key)
        for nid in drop:
            node = self.runtime.pop(nid)
            self._runtime_pos[nid] = self._xy(node)  # where it comes back (moved by hand too)
            self.runtime_by_id.pop(node.id, None)
            self._clear_node_connections(node)
            self.graph.remove_node(node, push_undo=False)
        self.viewer.node_count = len(self.nodes) + len(self.runtime)

    def _promote(self, nid: NeuronId) -> None:
        """A run-time neuron that the design now has becomes a design node (same place)."""
        node = self.runtime.get(nid)
        if node is None:
            return
        pos = self.doc.pos_of(nid) or self._xy(node)
        self._drop_runtime([nid])
        self._add_node(nid, pos)
        if self.live is not None:
            self._apply_wires(
                {k: w for k, w in self.live.items() if nid in (k[0][:2], k[1][:2])}, partial=True
            )

    def forget_live_wire(self, key: WireKey, w: Any) -> None:
        """Draw a change made to ``W_t`` alone (the next frame confirms it)."""
        if self.live is None:
            return
        if w:
            self.live[key] = w
            self._draw_wire(key, w)
        else:
            self.live.pop(key, None)
            self._erase_wire(key)

    def _design_active_later(self) -> None:
        if not self._active_pending:
            self._active_pending = True
            QTimer.singleShot(0, self._design_active_now)

    def _design_active_now(self) -> None:
        self._active_pending = False
        if self.live is None:
            self.set_active(active_neurons(self.doc.network.matrix))

    def set_active(self, active: set[NeuronId] | None) -> None:
        """Dim the neurons outside the active part (None: none dimmed)."""
        dim = set() if active is None else set(self.nodes) - active
        for nid in dim ^ self._dimmed:
            node = self.nodes.get(nid)
            if node is not None:
                node.view.setOpacity(0.35 if nid in dim else 1.0)
        self._dimmed = dim

    # ------------------------------------------------------------- model events
    def _on_model(self, event: str, info: dict[str, Any]) -> None:
        if self.live is None and event in ("weight", "neuron_added", "neuron_renamed"):
            self._design_active_later()  # neurons not in W_0 are dimmed too
        if event == "weight":
            key = (tuple(info["to"]), tuple(info["frm"]))
            for nid in (key[0][:2], key[1][:2]):
                if nid in self.runtime and info["new"]:
                    self._promote(nid)  # type: ignore[arg-type]  # wired in the design now
                node = self.nodes.get(nid)  # type: ignore[arg-type]
                if node is not None and (
                    (nid == key[0][:2] and key[0][2] not in node.inputs())
                    or (nid == key[1][:2] and key[1][2] not in node.outputs())
                ):
                    self._sync_ports(nid)  # type: ignore[arg-type]
            if info["new"]:
                self._draw_wire(key, info["new"])  # type: ignore[arg-type]
            else:
                self._erase_wire(key)  # type: ignore[arg-type]
            if self.live is not None:
                if info["new"]:
                    self.live[key] = info["new"]  # type: ignore[index]
                else:
                    self.live.pop(key, None)  # type: ignore[arg-type]
        elif event == "neuron_added":
            nid = info["neuron"]
            if nid in self.runtime:
                self._promote(nid)
            elif nid not in self.nodes:
                self._add_node(nid, self.doc.pos_of(nid) or (0.0, 0.0))
                self._touched = [nid]
                self._fix_scene_rect()
        elif event == "neuron_removed":
            nid = info["neuron"]
            if self.live is not None:
                self._suppressed.add(nid)  # frames already on their way may still hold it
            node = self.nodes.pop(nid, None)
            if node is not None:
                for key in [k for k in self.shown if nid in (k[0][:2], k[1][:2])]:
                    self._erase_wire(key)
                self._clear_node_connections(node)
                self.by_id.pop(node.id, None)
                self.graph.remove_node(node, push_undo=False)
                self._dimmed.discard(nid)
                self.viewer.node_count = len(self.nodes) + len(self.runtime)
        elif event == "neuron_renamed":
            old = (info["type"], info["old"])
            new = (info["type"], info["new"])
            if self.live is not None:
                self._suppressed.add(old)
                self._drop_runtime([new])  # the design's neuron takes the name
            node = self.nodes.pop(old, None)
            if old in self._dimmed:
                self._dimmed.discard(old)
                self._dimmed.add(new)
            if node is not None:
                self.nodes[new] = node
                node._neuron = new  # type: ignore[attr-defined]
                self.by_id[node.id] = new
                node.model.name = new[1]
                node.view.name = new[1]
                node.view.draw_node()
                ren = {}
                for key in list(self.shown):
                    to, frm = key
                    nto = (*new, to[2]) if to[:2] == old else to
                    nfrm = (*new, frm[2]) if frm[:2] == old else frm
                    if (nto, nfrm) != key:
                        ren[key] = (nto, nfrm)
                for key, nkey in ren.items():
                    self.shown[nkey] = self.shown.pop(key)
                    if key in self.pipes:
                        self.pipes[nkey] = self.pipes.pop(key)
                if self.live is not None:
                    self.live = {ren.get(k, k): v for k, v in self.live.items()}
        elif event == "layout":
            nid = info["neuron"]
            node = self.nodes.get(nid)
            if node is not None:
                x, y = info["pos"]
                if tuple(node.view.xy_pos) != (float(x), float(y)):
                    node.view.xy_pos = [float(x), float(y)]
                    node.model.pos = [float(x), float(y)]
                self._touched = [nid]
                self._fix_scene_rect()
        elif event == "output":
            nid = info["neuron"]
            if nid in self.nodes and self.registry.get(nid[0]).variadic_outputs:
                node = self.nodes[nid]
                if info["output"] not in node.outputs():
                    self._sync_ports(nid)

    # ------------------------------------------------------------- gestures
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
        edit.setText(format_weight(self.shown.get(key, self.doc.network.weight(*key))))
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
        menu = QMenu(self.viewer)
        if item is None:
            menu.addAction("Frame all", self.frame_all)
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
        if nid != SELF_ID:
            menu.addSeparator()
            menu.addAction("Delete", lambda: self.doc.remove_neurons([nid]))
        return menu

    def _ask_port(self, nid: NeuronId, side: str) -> None:
        name, ok = QInputDialog.getText(self.viewer, "Add port", f"New {side[:-1]} of {nid[0]}/{nid[1]}:")
        if ok and name:
            self.doc.add_port(nid, side, name)

    def _ask_rename_port(self, nid: NeuronId, side: str, old: str) -> None:
        name, ok = QInputDialog.getText(self.viewer, "Rename port", f"New name for {old}:", text=old)
        if ok and name:
            self.doc.rename_port(nid, side, old, name)

    # ------------------------------------------------------------- selection and view
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

    # ------------------------------------------------------------- costs and hover texts
    costs_shown = False

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

    hover_provider: Any = (
        None  # (kind, key) -> str or None: "port" (type, name, port, side), "wire" (to, frm)
    )

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
        """The hover text for what is under ``scene_pos`` (from ``hover_provider``)."""
        if self.hover_provider is None:
            return None
        target = self.hover_target(scene_pos)
        return None if target is None else self.hover_provider(*target)

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
        """Fit the view to the nodes (fitInView over their united rectangles)."""
        ids = list(ids or [*self.nodes, *self.runtime])
        nodes = [n for n in map(self._node, ids) if n is not None]
        if not nodes:
            return
        rect = QRectF()
        for n in nodes:
            rect = rect.united(n.view.sceneBoundingRect())
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

    def node_pos(self, nid: NeuronId) -> tuple[float, float]:
        node = self._node(nid)
        if node is None:
            raise KeyError(nid)
        return self._xy(node)
