"""File -> Examples: the example networks, with their titles and descriptions.

``install(window)`` adds an "Examples" submenu to the File menu: one entry
per example (its meta title; the description as the tip) and "Browse
Examples...", a dialog that lists them with their descriptions. An example
opens as an untitled copy, so saving never overwrites the shipped file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QSplitter,
    QVBoxLayout,
)

from ..fileformat import NetworkFileError, load_network

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


@dataclass(frozen=True)
class Example:
    path: Path
    title: str
    description: str


def list_examples(folder: Path = EXAMPLES_DIR) -> list[Example]:
    """The ``*.dmm.json`` files of ``folder`` with their meta, by title.

    Only the meta is read here (plain JSON); a file that cannot be read is
    listed under its file name with the reason as its description.
    """
    out = []
    for path in sorted(folder.glob("*.dmm.json")):
        stem = path.name.removesuffix(".dmm.json")
        try:
            meta = json.loads(path.read_text(encoding="utf-8")).get("meta") or {}
            title = str(meta.get("title") or stem)
            description = str(meta.get("description") or "")
        except (OSError, ValueError, AttributeError) as e:
            title, description = stem, f"cannot be read: {e}"
        out.append(Example(path, title, description))
    return sorted(out, key=lambda e: e.title.lower())


def open_example(window: Any, example: Example) -> bool:
    """Open an example in the window as an untitled copy (the window asks to
    save the open design's unsaved changes first: False when the user cancels)."""
    try:
        net = load_network(example.path, window.doc.registry)
    except NetworkFileError as e:
        window.show_message(str(e))
        return False
    if window.open_network(net, None) is False:
        return False
    window.canvas.frame_all()
    window.show_message(f"opened the example {example.title!r} (Save As to keep your changes)")
    return True


class ExamplesDialog(QDialog):
    """A list of the examples; the description of the selected one below it."""

    def __init__(self, examples: list[Example], parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Examples")
        self.examples = examples
        self.list = QListWidget()
        for ex in examples:
            item = QListWidgetItem(ex.title)
            item.setToolTip(ex.path.name)
            self.list.addItem(item)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.description.setMinimumWidth(320)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.description)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        layout.addWidget(self.buttons)
        self.list.currentRowChanged.connect(self._show)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.resize(760, 420)
        if examples:
            self.list.setCurrentRow(0)

    def _show(self, row: int) -> None:
        ok = 0 <= row < len(self.examples)
        self.description.setText(self.examples[row].description if ok else "")
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(ok)

    def chosen(self) -> Example | None:
        row = self.list.currentRow()
        return self.examples[row] if 0 <= row < len(self.examples) else None


class ExamplesMenu:
    """The File -> Examples submenu and its dialog."""

    def __init__(self, window: Any, folder: Path = EXAMPLES_DIR) -> None:
        self.window = window
        self.folder = folder
        self.menu = QMenu("E&xamples", window)
        self.browse_action = QAction("&Browse Examples...", window)
        self.browse_action.triggered.connect(lambda _=False: self.browse())
        self.menu.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.menu.clear()
        self.menu.addAction(self.browse_action)
        self.menu.addSeparator()
        self.actions: dict[str, QAction] = {}
        for ex in list_examples(self.folder):
            act = QAction(ex.title, self.window)
            act.setStatusTip(ex.description)
            act.setToolTip(ex.description)
            act.triggered.connect(lambda _=False, ex=ex: open_example(self.window, ex))
            self.menu.addAction(act)
            self.actions[ex.title] = act

    def dialog(self) -> ExamplesDialog:
        return ExamplesDialog(list_examples(self.folder), self.window)

    def browse(self) -> bool:
        dlg = self.dialog()
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.chosen() is not None:
            return open_example(self.window, dlg.chosen())  # type: ignore[arg-type]
        return False


def install(window: Any, folder: Path = EXAMPLES_DIR) -> ExamplesMenu:
    """Add File -> Examples to the main window (before Save, after Open)."""
    em = ExamplesMenu(window, folder)
    window.examples_menu = em
    file_menu = window.menus["File"]
    before = getattr(window, "actions_by_name", {}).get("Save")
    if before is not None:
        file_menu.insertMenu(before, em.menu)
    else:
        file_menu.addMenu(em.menu)
    return em
