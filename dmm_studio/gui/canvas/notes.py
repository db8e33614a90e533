"""Backdrops and comments on the canvas, saved in the network file.

A backdrop is a titled, coloured rectangle behind the neurons it groups
(NodeGraphQt's BackdropNode and ComfyUI's groups are the model); dragging its
title bar moves it with the neurons inside it, its corner grip resizes it. A
comment is a note of text at a place. Neither is part of the network's
semantics: they live in the file's ``meta`` (``meta.backdrops``:
``[{"title", "rect": [x, y, w, h], "color": [r, g, b]}]``, ``meta.comments``:
``[{"text", "pos": [x, y]}]``; the schema checks them when a file loads).

Every change is an undoable command (``SetNotes``; a backdrop's move is one
undo step with the neurons' moves) on the document's undo stack, and marks
the design modified. ``Notes`` draws them again from ``meta`` after each
command and when another file is opened (they are few: drawing all is cheap).

Only the title bar and the grip of a backdrop take the mouse (its ``shape``):
a click inside it reaches the nodes, ports and wires above it, and a rubber
band can start on it (NodeGraphQt's own backdrop takes those clicks).
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QUndoCommand
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent, QInputDialog, QMenu, QWidget

BACKDROP = "backdrops"
COMMENT = "comments"
TITLE_H = 26.0
GRIP = 16.0
PAD = 30.0  # room around the nodes a new backdrop groups
COLORS = {
    "Blue": (55, 95, 150),
    "Green": (55, 125, 80),
    "Red": (150, 60, 60),
    "Purple": (110, 70, 140),
    "Yellow": (160, 135, 45),
    "Grey": (95, 95, 100),
}
DEFAULT_COLOR = COLORS["Blue"]
COMMENT_WIDTH = 240.0
_TITLE_FONT = QFont()
_TITLE_FONT.setPointSizeF(11)
_TITLE_FONT.setBold(True)
_COMMENT_FONT = QFont()
_COMMENT_FONT.setPointSizeF(10)


class SetNotes(QUndoCommand):
    """Replace ``meta[key]`` (the backdrops or the comments) with ``new``."""

    def __init__(self, notes: Notes, key: str, new: list[dict[str, Any]], text: str, parent: Any = None) -> None:
        super().__init__(text, parent)
        self.notes, self.key = notes, key
        self.new = copy.deepcopy(new)
        self.old = copy.deepcopy(notes.doc.network.meta.get(key, []))

    def _store(self, value: list[dict[str, Any]]) -> None:
        meta = self.notes.doc.network.meta
        if value:
            meta[self.key] = copy.deepcopy(value)
        else:
            meta.pop(self.key, None)
        self.notes.sync()

    def redo(self) -> None:
        self._store(self.new)

    def undo(self) -> None:
        self._store(self.old)


class Notes:
    """The backdrops and comments of the canvas's document (see the module docstring)."""

    def __init__(self, canvas: Any) -> None:
        self.canvas = canvas
        self.doc = canvas.doc
        self.scene = canvas.viewer.scene()
        self.backdrop_items: list[BackdropItem] = []
        self.comment_items: list[CommentItem] = []
        self.doc.replaced.connect(self.sync)
        self.sync()

    # ------------------------------------------------------------- reading
    def backdrops(self) -> list[dict[str, Any]]:
        return list(self.doc.network.meta.get(BACKDROP, []))

    def comments(self) -> list[dict[str, Any]]:
        return list(self.doc.network.meta.get(COMMENT, []))

    def items(self) -> list[QGraphicsItem]:
        return [*self.backdrop_items, *self.comment_items]

    def item_at(self, scene_pos: QPointF) -> BackdropItem | CommentItem | None:
        """The comment under ``scene_pos``, else the backdrop whose rectangle holds it."""
        for item in self.comment_items:
            if item.sceneBoundingRect().contains(scene_pos):
                return item
        for item in reversed(self.backdrop_items):
            if item.sceneBoundingRect().contains(scene_pos):
                return item
        return None

    def nodes_in(self, rect: QRectF) -> dict[tuple[str, str], Any]:
        """The design's nodes wholly inside ``rect`` (what a backdrop carries)."""
        return {nid: n for nid, n in self.canvas.nodes.items() if rect.contains(n.view.sceneBoundingRect())}

    # ------------------------------------------------------------- drawing
    def sync(self) -> None:
        """Draw the backdrops and comments of the design's ``meta`` again."""
        # an item may be the one whose mouse release made this change: kept alive
        # (out of the scene) until the next sync, never deleted under Qt's feet
        self._gone = self.items()
        for item in self._gone:
            self.scene.removeItem(item)
        self.backdrop_items = [BackdropItem(self, i, b) for i, b in enumerate(self.backdrops())]
        self.comment_items = [CommentItem(self, i, c) for i, c in enumerate(self.comments())]
        for item in self.items():
            self.scene.addItem(item)

    # ------------------------------------------------------------- edits
    def _push(self, key: str, new: list[dict[str, Any]], text: str) -> None:
        self.doc.undo_stack.push(SetNotes(self, key, new, text))

    def add_backdrop(
        self, rect: QRectF | None = None, title: str = "Group", color: tuple[int, int, int] = DEFAULT_COLOR
    ) -> int:
        """A backdrop over ``rect`` (default: around the selected neurons, or a
        box at the view's centre); returns its index."""
        if rect is None:
            sel = [self.canvas.nodes[n] for n in self.canvas.selected_neurons() if n in self.canvas.nodes]
            if sel:
                rect = QRectF()
                for n in sel:
                    rect = rect.united(n.view.sceneBoundingRect())
                rect = rect.adjusted(-PAD, -PAD - TITLE_H - 10, PAD, PAD)
            else:
                c = self.canvas.viewer.visible_rect().center()
                rect = QRectF(c.x() - 200, c.y() - 130, 400, 260)
        entry = {"title": title, "rect": _rect_list(rect), "color": list(color)}
        self._push(BACKDROP, [*self.backdrops(), entry], f"add backdrop {title!r}")
        return len(self.backdrops()) - 1

    def change_backdrop(self, index: int, text: str = "edit backdrop", **changes: Any) -> None:
        """Change a backdrop's ``title``, ``rect`` ([x, y, w, h]) or ``color``."""
        new = self.backdrops()
        new[index] = {**new[index], **changes}
        self._push(BACKDROP, new, text)

    def move_backdrop(self, index: int, rect: QRectF, moves: dict[Any, Any]) -> None:
        """A backdrop dragged to ``rect`` with the neurons it carries (``moves``:
        ``{neuron: (old xy, new xy)}``): one undo step."""
        stack = self.doc.undo_stack
        stack.beginMacro("move backdrop")
        self.change_backdrop(index, "move backdrop", rect=_rect_list(rect))
        if moves:
            self.doc.move_neurons(moves)
        stack.endMacro()

    def remove_backdrop(self, index: int) -> None:
        new = self.backdrops()
        gone = new.pop(index)
        self._push(BACKDROP, new, f"delete backdrop {gone.get('title', '')!r}")

    def add_comment(self, pos: QPointF | tuple[float, float], text: str = "Comment") -> int:
        x, y = (pos.x(), pos.y()) if isinstance(pos, QPointF) else pos
        self._push(COMMENT, [*self.comments(), {"text": text, "pos": [float(x), float(y)]}], "add comment")
        return len(self.comments()) - 1

    def change_comment(self, index: int, text: str = "edit comment", **changes: Any) -> None:
        """Change a comment's ``text`` or ``pos`` ([x, y])."""
        new = self.comments()
        new[index] = {**new[index], **changes}
        self._push(COMMENT, new, text)

    def remove_comment(self, index: int) -> None:
        new = self.comments()
        new.pop(index)
        self._push(COMMENT, new, "delete comment")

    # ------------------------------------------------------------- menus
    def menu_for(self, item: BackdropItem | CommentItem, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        if isinstance(item, BackdropItem):
            i = item.index
            menu.addAction("Rename backdrop...", lambda: self.ask_title(i, parent))
            colors = menu.addMenu("Colour")
            for name, rgb in COLORS.items():
                colors.addAction(name, lambda rgb=rgb: self.change_backdrop(i, "backdrop colour", color=list(rgb)))
            menu.addSeparator()
            menu.addAction("Delete backdrop", lambda: self.remove_backdrop(i))
        else:
            i = item.index
            menu.addAction("Edit comment...", lambda: self.ask_text(i, parent))
            menu.addSeparator()
            menu.addAction("Delete comment", lambda: self.remove_comment(i))
        return menu

    def ask_title(self, index: int, parent: QWidget) -> None:
        old = self.backdrops()[index].get("title", "")
        title, ok = QInputDialog.getText(parent, "Backdrop", "Title:", text=old)
        if ok and title != old:
            self.change_backdrop(index, "rename backdrop", title=title)

    def ask_text(self, index: int, parent: QWidget) -> None:
        old = self.comments()[index].get("text", "")
        text, ok = QInputDialog.getMultiLineText(parent, "Comment", "Text:", old)
        if ok and text != old:
            self.change_comment(index, text=text)


def _rect_list(r: QRectF) -> list[float]:
    return [round(r.x(), 2), round(r.y(), 2), round(max(r.width(), 40.0), 2), round(max(r.height(), 40.0), 2)]


class BackdropItem(QGraphicsItem):
    """A backdrop: drawn whole, it takes the mouse on its title bar (drag:
    move with the neurons inside) and its grip (drag: resize)."""

    def __init__(self, notes: Notes, index: int, data: dict[str, Any]) -> None:
        super().__init__()
        self.notes, self.index, self.data = notes, index, data
        x, y, w, h = (float(v) for v in data["rect"])
        self.setPos(x, y)
        self.rect = QRectF(0, 0, w, h)
        self.color = QColor(*data.get("color", DEFAULT_COLOR))
        self.title = str(data.get("title", ""))
        self.setZValue(-5)  # under wires (-1) and nodes (1)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setAcceptHoverEvents(True)
        self._drag: dict[str, Any] | None = None

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's names
        return self.rect.adjusted(-1, -1, 1, 1)

    def title_rect(self) -> QRectF:
        return QRectF(0, 0, self.rect.width(), TITLE_H)

    def grip_rect(self) -> QRectF:
        return QRectF(self.rect.width() - GRIP, self.rect.height() - GRIP, GRIP, GRIP)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.title_rect())
        path.addRect(self.grip_rect())
        return path

    def paint(self, painter: QPainter, option: Any, widget: Any = None) -> None:
        body = QColor(self.color)
        body.setAlpha(55)
        bar = QColor(self.color)
        bar.setAlpha(210)
        painter.setPen(QPen(self.color.lighter(130), 1.2))
        painter.setBrush(QBrush(body))
        painter.drawRoundedRect(self.rect, 6, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bar)
        path = QPainterPath()
        path.addRoundedRect(self.title_rect(), 6, 6)
        path.addRect(QRectF(0, TITLE_H / 2, self.rect.width(), TITLE_H / 2))
        painter.drawPath(path.simplified())
        painter.setPen(QColor(245, 245, 245))
        painter.setFont(_TITLE_FONT)
        text = QFontMetricsF(_TITLE_FONT).elidedText(self.title, Qt.TextElideMode.ElideRight, self.rect.width() - 16)
        painter.drawText(self.title_rect().adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter, text)
        g = self.grip_rect()
        painter.setPen(QPen(self.color.lighter(150), 1.2))
        for k in (4, 8, 12):
            painter.drawLine(QPointF(g.right() - k, g.bottom() - 2), QPointF(g.right() - 2, g.bottom() - k))

    def hoverMoveEvent(self, event: Any) -> None:  # noqa: N802
        grip = self.grip_rect().contains(event.pos())
        self.setCursor(Qt.CursorShape.SizeFDiagCursor if grip else Qt.CursorShape.SizeAllCursor)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        viewer = self.notes.canvas.viewer
        viewer._node_positions = {}  # the nodes this drag moves are ours to report
        resize = self.grip_rect().contains(event.pos())
        rect = self.sceneBoundingRect().adjusted(1, 1, -1, -1)
        nodes = {} if resize else self.notes.nodes_in(rect)
        self._drag = {
            "resize": resize,
            "start": event.scenePos(),
            "pos": self.pos(),
            "size": QRectF(self.rect),
            "nodes": {nid: (n, n.view.pos()) for nid, n in nodes.items()},
        }
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        d = self._drag
        if d is None:
            return
        delta = event.scenePos() - d["start"]
        if d["resize"]:
            self.prepareGeometryChange()
            self.rect = QRectF(0, 0, max(80.0, d["size"].width() + delta.x()), max(60.0, d["size"].height() + delta.y()))
            self.update()
        else:
            self.setPos(d["pos"] + delta)
            for node, start in d["nodes"].values():
                node.view.setPos(start + delta)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        d, self._drag = self._drag, None
        if d is None:
            return
        rect = QRectF(self.pos(), self.rect.size())
        if d["resize"]:
            if rect.size() != d["size"].size():
                self.notes.change_backdrop(self.index, "resize backdrop", rect=_rect_list(rect))
            return
        if self.pos() == d["pos"]:
            return
        moves = {}
        for nid, (node, start) in d["nodes"].items():
            p = node.view.pos()
            moves[nid] = ((float(start.x()), float(start.y())), (float(p.x()), float(p.y())))
        self.notes.move_backdrop(self.index, rect, moves)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self.notes.ask_title(self.index, self.notes.canvas.viewer)


class CommentItem(QGraphicsItem):
    """A comment: a note of wrapped text; drag it to move it, double-click to edit it."""

    def __init__(self, notes: Notes, index: int, data: dict[str, Any]) -> None:
        super().__init__()
        self.notes, self.index, self.data = notes, index, data
        self.text = str(data.get("text", ""))
        x, y = (float(v) for v in data["pos"])
        self.setPos(x, y)
        fm = QFontMetricsF(_COMMENT_FONT)
        flags = int(Qt.TextFlag.TextWordWrap)
        br = fm.boundingRect(QRectF(0, 0, COMMENT_WIDTH, 10000), flags, self.text or " ")
        self.rect = QRectF(0, 0, max(60.0, min(COMMENT_WIDTH, br.width())) + 20, br.height() + 16)
        self.setZValue(0.5)  # over wires, under nodes
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setCursor(Qt.CursorShape.SizeAllCursor)
        self.setToolTip("comment: drag to move, double-click to edit, right-click for more")
        self._drag: tuple[QPointF, QPointF] | None = None

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self.rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: Any, widget: Any = None) -> None:
        painter.setPen(QPen(QColor(190, 170, 90), 1))
        painter.setBrush(QColor(255, 244, 180, 235))
        painter.drawRoundedRect(self.rect, 4, 4)
        painter.setPen(QColor(40, 36, 20))
        painter.setFont(_COMMENT_FONT)
        painter.drawText(self.rect.adjusted(10, 8, -10, -8), int(Qt.TextFlag.TextWordWrap), self.text)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self.notes.canvas.viewer._node_positions = {}
        self._drag = (event.scenePos(), self.pos())
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._drag is not None:
            self.setPos(self._drag[1] + event.scenePos() - self._drag[0])

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        drag, self._drag = self._drag, None
        if drag is not None and self.pos() != drag[1]:
            self.notes.change_comment(self.index, "move comment", pos=[round(self.x(), 2), round(self.y(), 2)])

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self.notes.ask_text(self.index, self.notes.canvas.viewer)
