"""The palette of neuron types (by family, with a search field) and the Tab
search popup on the canvas. Both only name a type; the canvas places it."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..registry import SELF_TYPE, Registry
from .canvas import TYPE_MIME
from .typehelp import doc_html


class _TypeTree(QTreeWidget):
    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # type: ignore[override]
        data = QMimeData()
        tid = items[0].data(0, Qt.ItemDataRole.UserRole) if items else None
        if tid:
            data.setData(TYPE_MIME, tid.encode())
            data.setText(tid)
        return data

    def mimeTypes(self) -> list[str]:
        return [TYPE_MIME]


class Palette(QWidget):
    """Neuron types grouped by family; drag one onto the canvas, or double-click it."""

    type_activated = Signal(str)

    def __init__(self, registry: Registry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search neuron types...")
        self.search.setClearButtonEnabled(True)
        self.tree = _TypeTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.search)
        lay.addWidget(self.tree)
        self.items: dict[str, QTreeWidgetItem] = {}
        for family, types in sorted(registry.families().items()):
            top = QTreeWidgetItem([family])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(top)
            for t in types:
                if t.id == SELF_TYPE:
                    continue  # one per network, always there
                it = QTreeWidgetItem([t.id])
                it.setData(0, Qt.ItemDataRole.UserRole, t.id)
                it.setToolTip(0, _describe(t))
                it.setFlags(
                    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
                )
                top.addChild(it)
                self.items[t.id] = it
        self.tree.expandAll()
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._activated)

    def filter(self, text: str) -> None:
        text = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            shown = 0
            for j in range(top.childCount()):
                it = top.child(j)
                tid = it.data(0, Qt.ItemDataRole.UserRole)
                hit = not text or text in tid.lower() or text in top.text(0).lower()
                it.setHidden(not hit)
                shown += hit
            top.setHidden(shown == 0)

    def visible_types(self) -> list[str]:
        return [tid for tid, it in self.items.items() if not it.isHidden() and not it.parent().isHidden()]

    def _activated(self, item: QTreeWidgetItem, _col: int) -> None:
        tid = item.data(0, Qt.ItemDataRole.UserRole)
        if tid:
            self.type_activated.emit(tid)


def _describe(t: object) -> str:
    return doc_html(t, brief=True)  # type: ignore[arg-type]


class TabSearch(QFrame):
    """Tab on the canvas: type a few letters, Enter places the type at the cursor."""

    chosen = Signal(str, QPointF)

    def __init__(self, registry: Registry, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("tab-search")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.ids = [t for t in registry.ids() if t != SELF_TYPE]
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("neuron type...")
        self.list = QListWidget(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.edit)
        lay.addWidget(self.list)
        self.resize(220, 240)
        self.scene_pos = QPointF()
        self.edit.textChanged.connect(self._refill)
        self.edit.returnPressed.connect(self._submit)
        self.list.itemActivated.connect(lambda _i: self._submit())
        self.edit.installEventFilter(self)
        self.hide()

    def popup(self, scene_pos: QPointF, view_pos: object) -> None:
        self.scene_pos = scene_pos
        self.edit.clear()
        self._refill("")
        x, y = view_pos.x(), view_pos.y()  # type: ignore[attr-defined]
        pw, ph = self.parentWidget().width(), self.parentWidget().height()
        self.move(max(0, min(int(x), pw - self.width())), max(0, min(int(y), ph - self.height())))
        self.show()
        self.raise_()
        self.edit.setFocus()

    def _refill(self, text: str) -> None:
        text = text.strip().lower()
        self.list.clear()
        for tid in self.ids:
            if all(part in tid.lower() for part in text.split()):
                self.list.addItem(QListWidgetItem(tid))
        if self.list.count():
            self.list.setCurrentRow(0)

    def close_search(self) -> None:
        """Hide the search and give the keyboard focus back to the canvas (a
        focused widget that hides passes the focus along the window's tab
        chain: the toolbar's step limit, where the next Delete would land)."""
        if self.isAncestorOf(QApplication.focusWidget()):
            self.parentWidget().setFocus(Qt.FocusReason.PopupFocusReason)
        self.hide()

    def _submit(self) -> None:
        item = self.list.currentItem()
        self.close_search()
        if item is not None:
            self.chosen.emit(item.text(), self.scene_pos)

    def eventFilter(self, obj: object, ev: object) -> bool:
        from PySide6.QtCore import QEvent

        if ev.type() == QEvent.Type.KeyPress:  # type: ignore[attr-defined]
            key = ev.key()  # type: ignore[attr-defined]
            if key == Qt.Key.Key_Escape:
                self.close_search()
                return True
            if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
                return True  # Tab stays in the search, not along the tab chain
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
                return True
        return False
