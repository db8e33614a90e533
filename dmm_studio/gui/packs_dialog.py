"""Help -> Neuron Packs: the packs the studio loaded, their types, and the
ones it skipped, each with its one-line reason (issue 11: a broken pack is
skipped, never fatal, and the user can see which and why).

``PacksDialog(registry)`` is the window; ``install(window)`` adds the Help
menu's entry (and Run -> Limits..., see ``limits_dialog``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout

from ..registry import Registry

BROKEN = QColor(180, 30, 30)


def pack_rows(registry: Registry) -> list[tuple[str, str, list[str], str]]:
    """``(pack, status, type ids, reason)`` for every pack the registry met:
    status ``"skipped"`` (no types; first, they are what one looks for) or
    ``"loaded"`` (reason ""), each group by name."""
    rows = [(p, "skipped", [], why) for p, why in sorted(registry.skipped.items())]
    rows += [(p, "loaded", sorted(ids), "") for p, ids in sorted(registry.packs.items())]
    return rows


class PacksDialog(QDialog):
    """The neuron packs: a row per pack (its types as children), skipped
    packs in red with why, and a line that sums it up."""

    def __init__(self, registry: Registry, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Neuron packs")
        self.resize(640, 420)
        rows = pack_rows(registry)
        loaded = sum(1 for r in rows if r[1] == "loaded")
        skipped = len(rows) - loaded
        types = sum(len(r[2]) for r in rows)
        self.summary = QLabel(
            f"{loaded} pack{'s' * (loaded != 1)} loaded ({types} neuron types, and Self)"
            + (f", {skipped} skipped (see why below)" if skipped else "")
        )
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["pack", "status", "types / why it was skipped"])
        self.items: dict[str, QTreeWidgetItem] = {}
        for pack, status, ids, why in rows:
            where = registry.skipped_values.get(pack, "")
            item = QTreeWidgetItem(
                self.tree, [pack, status, f"{len(ids)} type{'s' * (len(ids) != 1)}" if not why else why]
            )
            if why:
                for col in range(3):
                    item.setForeground(col, QBrush(BROKEN))
                item.setToolTip(2, f"{pack} ({where}): {why}" if where else why)
            for tid in ids:
                QTreeWidgetItem(item, ["", "", tid])
            self.items[pack] = item
        self.tree.resizeColumnToContents(0)
        self.tree.resizeColumnToContents(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.tree)
        note = QLabel(
            "Packs are found through the entry point group <tt>dmm_studio.neurons</tt>; "
            "a pack that fails to load is skipped whole (the rest of the studio works on)."
        )
        note.setWordWrap(True)
        note.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(note)
        lay.addWidget(buttons)


def install(window: Any) -> None:
    """Help -> Neuron Packs... and Run -> Limits... on a main window."""
    from .limits_dialog import open_limits_dialog

    menus = window.menus
    if "Help" not in menus:
        menus["Help"] = window.menuBar().addMenu("&Help")
    packs = QAction("Neuron &Packs...", window)
    packs.setStatusTip("the neuron packs loaded, their types, and those skipped (and why)")
    packs.triggered.connect(lambda _=False: open_packs_dialog(window))
    menus["Help"].addAction(packs)
    window.actions_by_name["Neuron Packs"] = packs
    limits = QAction("&Limits...", window)
    limits.setStatusTip("the bounds on the network's size while it runs (weights, active neurons, memory)")
    limits.triggered.connect(lambda _=False: open_limits_dialog(window))
    menus["Run"].addSeparator()
    menus["Run"].addAction(limits)
    window.actions_by_name["Limits"] = limits


def open_packs_dialog(window: Any) -> PacksDialog:
    dlg = PacksDialog(window.doc.registry, window)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    window.packs_dialog = dlg
    return dlg
