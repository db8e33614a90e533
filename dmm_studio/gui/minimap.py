"""The minimap: an overview of the whole network in the canvas's bottom-right
corner, with the part the canvas shows drawn as a rectangle; a click or a drag
in it moves the canvas there (the zoom stays).

- ``Minimap(canvas)``: the overlay (a child of the canvas's viewer).
  ``scene_to_map(p)`` / ``map_to_scene(p)`` convert points; ``refresh()``
  redraws its picture now.
- ``install(window)``: View -> Minimap (Ctrl+Shift+M). Until the user
  chooses, it shows itself for networks of ``AUTO_NODES`` neurons or more; the
  choice is remembered with the settings of a window that remembers its layout.

Fluid with hundreds of nodes: the network is drawn once into a pixmap (a
filled box per node, a line per wire between node centres) and drawn again
only when it changed, which a cheap signature (node count, wire count, node
positions) checked ``POLL_MS`` apart tells; a pan or zoom of the canvas only
moves the rectangle drawn over the pixmap.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QLineF, QObject, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QWidget

AUTO_NODES = 30  # shown by itself from this many neurons (until the user chooses)
POLL_MS = 300
MARGIN = 10  # pixels from the canvas's corner
SIZE = QSize(240, 160)
SETTING = "view/minimap"  # "on" | "off" (absent: by size)


class Minimap(QWidget):
    """An overview of the canvas (see the module docstring)."""

    def __init__(self, canvas: Any) -> None:
        super().__init__(canvas.viewer)
        self.setObjectName("minimap")
        self.canvas = canvas
        self.viewer = canvas.viewer
        self.setFixedSize(SIZE)
        # it paints every pixel (an opaque picture): nothing under it is painted again
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Minimap: click or drag to move the canvas there")
        self.choice: bool | None = None  # the user's; None: by the network's size
        self.on_change: Any = None  # called with True / False when it shows or hides
        self._pix: QPixmap | None = None
        self._world = QRectF()  # the scene rectangle the picture shows
        self._sig: Any = None
        self.redraws = 0  # pictures drawn (the tests count them)
        self.colors = {
            "bg": QColor(24, 24, 28),
            "frame": QColor(255, 255, 255, 200),
            "wire": QColor(150, 150, 150, 60),
        }
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self.viewer.view_changed.connect(self.update)
        self.viewer.installEventFilter(self)
        canvas.doc.replaced.connect(lambda: QTimer.singleShot(0, self.follow))
        self._place()
        self.follow()

    # ------------------------------------------------------------- showing
    def wanted(self) -> bool:
        if self.choice is not None:
            return self.choice
        return len(self.canvas.nodes) + len(self.canvas.runtime) >= AUTO_NODES

    def follow(self) -> None:
        """Show or hide as the user chose, or as the network's size says."""
        on = self.wanted()
        if on != self.isVisibleTo(self.viewer) or self._pix is None:
            self.setVisible(on)
            if on:
                self.refresh()
            if self.on_change is not None:
                self.on_change(on)
        self._timer.start()  # while hidden it only counts nodes (shown by size)

    def set_choice(self, on: bool | None) -> None:
        self.choice = on
        self.follow()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if obj is self.viewer and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        # the viewer's own size: on its Resize event the viewport is not laid out yet
        v, f = self.viewer, self.viewer.frameWidth()
        self.move(v.width() - f - SIZE.width() - MARGIN, v.height() - f - SIZE.height() - MARGIN)
        self.raise_()

    # ------------------------------------------------------------- the picture
    def _nodes(self) -> list[Any]:
        c = self.canvas
        return [*c.nodes.values(), *c.runtime.values()]

    def _signature(self) -> Any:
        nodes = self._nodes()
        pos = tuple((n.view.x(), n.view.y()) for n in nodes)
        sel = tuple(n.view.isSelected() for n in nodes)
        notes = getattr(self.canvas, "notes", None)
        marks = () if notes is None else tuple(i.sceneBoundingRect().getRect() for i in notes.items())
        return (len(nodes), len(self.canvas.shown), hash(pos), hash(sel), marks)

    def _poll(self) -> None:
        if self.choice is None and self.wanted() != self.isVisibleTo(self.viewer):
            self.follow()
        elif self.isVisible() and self._signature() != self._sig:
            self.refresh()

    def refresh(self) -> None:
        """Draw the network's picture again (nodes, wires) and repaint."""
        self._sig = self._signature()
        nodes = self._nodes()
        rect = QRectF()
        centres: dict[Any, QPointF] = {}
        boxes = []
        for n in nodes:
            r = n.view.sceneBoundingRect()
            rect = rect.united(r)
            centres[n.view.id] = r.center()
            boxes.append((r, n.view))
        notes = getattr(self.canvas, "notes", None)
        marks = [] if notes is None else notes.items()
        for item in marks:
            rect = rect.united(item.sceneBoundingRect())
        if rect.isNull():
            rect = QRectF(-200, -150, 400, 300)
        pad = max(rect.width(), rect.height()) * 0.06 + 40
        self._world = _fit(rect.adjusted(-pad, -pad, pad, pad), self.width() / self.height())
        dpr = self.devicePixelRatioF()
        pix = QPixmap(self.size() * dpr)
        pix.setDevicePixelRatio(dpr)
        pix.fill(self.colors["bg"])
        p = QPainter(pix)
        try:
            k = self.width() / self._world.width()
            p.scale(k, k)
            p.translate(-self._world.topLeft())
            for item in marks:  # backdrops and comments, under the rest
                c = QColor(getattr(item, "color", QColor(255, 244, 180)))
                c.setAlpha(90)
                p.fillRect(item.sceneBoundingRect(), c)
            pen = QPen(self.colors["wire"], 0)  # cosmetic: one pixel whatever the scale
            p.setPen(pen)
            ids = self.canvas.by_id | self.canvas.runtime_by_id
            node_of = {nid: item_id for item_id, nid in ids.items()}
            lines = []
            for to, frm in self.canvas.shown:
                a, b = centres.get(node_of.get(to[:2])), centres.get(node_of.get(frm[:2]))
                if a is not None and b is not None:
                    lines.append(QLineF(b, a))
            p.drawLines(lines)  # one call: a Python call per wire costs more than its drawing
            p.setPen(Qt.PenStyle.NoPen)
            by_color: dict[tuple[int, ...], list[QRectF]] = {}
            selected = []
            for r, item in boxes:
                by_color.setdefault(tuple(item.color[:3]), []).append(r)
                if item.isSelected():
                    selected.append(r)
            for rgb, rects in by_color.items():
                p.setBrush(QColor(*rgb))
                p.drawRects(rects)
            if selected:
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.setPen(QPen(QColor(255, 220, 120), 0))
                p.drawRects(selected)
        finally:
            p.end()
        self._pix = pix
        self.redraws += 1
        self.update()

    # ------------------------------------------------------------- coordinates
    def scene_to_map(self, point: QPointF) -> QPointF:
        k = self.width() / self._world.width()
        return QPointF((point.x() - self._world.left()) * k, (point.y() - self._world.top()) * k)

    def map_to_scene(self, point: QPointF) -> QPointF:
        k = self._world.width() / self.width()
        return QPointF(self._world.left() + point.x() * k, self._world.top() + point.y() * k)

    def visible_box(self) -> QRectF:
        """The canvas's visible part, in the minimap's pixels."""
        r = self.viewer.visible_rect()
        return QRectF(self.scene_to_map(r.topLeft()), self.scene_to_map(r.bottomRight()))

    # ------------------------------------------------------------- Qt events
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        try:
            if self._pix is not None:
                p.drawPixmap(0, 0, self._pix)
            else:
                p.fillRect(self.rect(), self.colors["bg"])
            box = self.visible_box().intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1))
            if not box.isEmpty():
                fill = QColor(self.colors["frame"])
                fill.setAlpha(40)
                p.fillRect(box, fill)
                p.setPen(QPen(self.colors["frame"], 1.5))
                p.drawRect(box)
            p.setPen(QPen(QColor(128, 128, 128, 160), 1))
            p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        finally:
            p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self.viewer.center_on(self.map_to_scene(event.position()))
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.viewer.center_on(self.map_to_scene(event.position()))
            event.accept()

    def wheelEvent(self, event: Any) -> None:  # noqa: N802 - the canvas's zoom, not the widget's
        event.accept()

    def set_colors(self, bg: QColor, frame: QColor, wire: QColor) -> None:
        """The theme's colours (``gui/theme.py``)."""
        self.colors = {"bg": bg, "frame": frame, "wire": wire}
        if self.isVisible():
            self.refresh()


def _fit(rect: QRectF, aspect: float) -> QRectF:
    """``rect`` grown around its centre to the width / height ratio ``aspect``."""
    w, h = rect.width(), rect.height()
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    c = rect.center()
    return QRectF(c.x() - w / 2, c.y() - h / 2, w, h)


def install(window: Any) -> Minimap:
    """View -> Minimap on the window's canvas (remembered with ``remember``)."""
    from . import settings as st

    mm = Minimap(window.canvas)
    window.minimap = mm
    if window.remember:
        kept = st.settings().value(SETTING)
        if kept in ("on", "off"):
            mm.set_choice(kept == "on")
    act = window._act("View", "&Minimap", lambda: None, "Ctrl+Shift+M", "an overview of the whole network")
    act.setCheckable(True)
    act.setChecked(mm.wanted())

    def toggled(on: bool) -> None:
        mm.set_choice(on)
        if window.remember:
            s = st.settings()
            s.setValue(SETTING, "on" if on else "off")
            s.sync()

    act.toggled.connect(toggled)
    # the check mark follows the automatic choice while the user has made none
    mm.on_change = lambda _on: _sync_check(act, mm)
    return mm


def _sync_check(act: Any, mm: Minimap) -> None:
    act.blockSignals(True)
    act.setChecked(mm.wanted())
    act.blockSignals(False)
