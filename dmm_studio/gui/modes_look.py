"""Mute and bypass on the canvas.

* **Edit -> Mute (Ctrl+M), Edit -> Bypass (Ctrl+B)**, as in ComfyUI: the
  selected neurons are muted (bypassed); if all of them already are, they
  run as designed again. One undoable edit (``commands.SetModes``), saved
  in the file (``layout[...]["mode"]``), sent to the running machine at once
  (``Runner.set_mode``). docs/semantics.md, "Mute and bypass", says what
  they do. On the canvas a muted node is greyed over with a "muted" tag, a
  bypassed one tinted violet with a "bypass" tag (``ModeLook``).
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from ..network import SELF_ID, Connections
from . import commands as cmd

NeuronId = tuple[str, str]

MUTE_SHORTCUT = "Ctrl+M"
BYPASS_SHORTCUT = "Ctrl+B"

MUTE_FILL = QColor(60, 60, 60, 170)
BYPASS_FILL = QColor(150, 80, 210, 60)
BYPASS_EDGE = QColor(170, 100, 235)
_TAG_FONT = QFont()
_TAG_FONT.setPointSizeF(7.5)
_TAG_FONT.setBold(True)


def toggle_mode(doc: Any, ids: list[NeuronId], mode: str) -> bool:
    """Mute or bypass ``ids`` (``mode``), or restore them when all already
    are: one undoable edit. Self is left alone (it holds the matrix); False
    when nothing was left to change (a message says why)."""
    ids = [tuple(i) for i in ids if tuple(i) != SELF_ID]  # type: ignore[misc]
    if not ids:
        doc.message.emit(f"select the neurons to {mode} (Self cannot be)")
        return False
    net = doc.network
    if all(net.mode(*nid) == mode for nid in ids):
        modes: dict[NeuronId, str | None] = dict.fromkeys(ids)  # type: ignore[arg-type]
        text = f"un{mode} {len(ids)} neuron(s)" if len(ids) > 1 else f"un{mode} {ids[0][0]}/{ids[0][1]}"
    else:
        modes = dict.fromkeys(ids, mode)  # type: ignore[arg-type]
        text = f"{mode} {len(ids)} neuron(s)" if len(ids) > 1 else f"{mode} {ids[0][0]}/{ids[0][1]}"
    doc.undo_stack.push(cmd.SetModes(doc, modes, text))
    return True


class ModeOverlay(QGraphicsRectItem):
    """What a muted or bypassed node wears: a veil over the node and a tag below it."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setZValue(3)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.tag = QGraphicsRectItem(self)
        self.tag.setPen(QPen(Qt.PenStyle.NoPen))
        self.tag_text = QGraphicsSimpleTextItem(self.tag)
        self.tag_text.setFont(_TAG_FONT)
        self.mode: str | None = None

    def show_mode(self, mode: str) -> None:
        self.mode = mode
        r = self.parentItem().boundingRect()
        self.setRect(r.adjusted(1, 1, -1, -1))
        if mode == "mute":
            self.setBrush(QBrush(MUTE_FILL))
            self.setPen(QPen(QColor(150, 150, 150), 1.5, Qt.PenStyle.DashLine))
            label, tag_color, text_color = "muted", QColor(120, 120, 120), QColor(235, 235, 235)
        else:
            self.setBrush(QBrush(BYPASS_FILL))
            self.setPen(QPen(BYPASS_EDGE, 2.5))
            label, tag_color, text_color = "bypass", BYPASS_EDGE, QColor(255, 255, 255)
        self.tag_text.setText(label)
        self.tag_text.setBrush(text_color)
        br = self.tag_text.boundingRect()
        self.tag.setRect(0, 0, br.width() + 8, br.height() + 2)
        self.tag.setBrush(tag_color)
        self.tag_text.setPos(4, 1)
        self.tag.setPos(r.left() + 4, r.bottom() + 2)
        self.setVisible(True)


class ModeLook:
    """Keeps the canvas's nodes dressed as their neurons' modes say."""

    def __init__(self, canvas: Any) -> None:
        self.canvas = canvas
        self.doc = canvas.doc
        self.overlays: dict[NeuronId, ModeOverlay] = {}
        self._model = Connections(
            {
                "modeChanged": lambda nid, _old, _new: self.refresh(nid),
                "neuronAdded": self.refresh,
                "neuronRenamed": lambda f, old, new: (self._forget((f, old)), self.refresh((f, new))),
                "portsChanged": self.refresh,
                "neuronRemoved": self._forget,
            }
        )
        self.doc.replaced.connect(self.refresh_all)
        self.refresh_all()

    def refresh_all(self) -> None:
        self._model.bind(self.doc.network)
        for nid in list(self.overlays):
            self._forget(nid)
        for nid in self.doc.network.modes():
            self.refresh(nid)

    def _forget(self, nid: NeuronId) -> None:
        item = self.overlays.pop(tuple(nid), None)  # type: ignore[arg-type]
        # the canvas may have rebuilt first (a file opened): the node's view took
        # its child overlay with it, and touching that wrapper raises
        if item is not None and shiboken6.isValid(item) and item.scene() is not None:
            item.scene().removeItem(item)

    def refresh(self, nid: NeuronId) -> None:
        nid = tuple(nid)  # type: ignore[assignment]
        mode = self.doc.network.mode(*nid)
        node = self.canvas.nodes.get(nid)
        item = self.overlays.get(nid)
        if item is not None and (
            node is None or not shiboken6.isValid(item) or item.parentItem() is not node.view
        ):
            self._forget(nid)
            item = None
        if mode is None or node is None:
            if item is not None:
                item.setVisible(False)
            return
        if item is None:
            item = self.overlays[nid] = ModeOverlay(node.view)
        item.show_mode(mode)


def install(window: Any) -> ModeLook:
    """Edit -> Mute / Bypass with their shortcuts, the nodes' look, and the
    modes sent to the running machine."""
    doc = window.doc
    window.mode_look = ModeLook(window.canvas)
    window._act(
        "Edit",
        "&Mute",
        lambda: toggle_mode(doc, window.canvas.selected_neurons(), "mute"),
        MUTE_SHORTCUT,
        "take the selected neurons out of the matrix in force (again: back in)",
    )
    window._act(
        "Edit",
        "&Bypass",
        lambda: toggle_mode(doc, window.canvas.selected_neurons(), "bypass"),
        BYPASS_SHORTCUT,
        "pass the selected neurons' inputs to their outputs of the same names (again: back)",
    )
    modes = Connections({"modeChanged": lambda nid, _old, new: window._on_edit("set_mode", tuple(nid), new)})
    modes.bind(doc.network)
    doc.replaced.connect(lambda: modes.bind(doc.network))
    window._mode_edits = modes
    return window.mode_look
