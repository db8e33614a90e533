"""Run -> Limits...: the bounds a network runs under, seen and changed.

A network that grows its own matrix is stopped cleanly by the bounds of
``dmm_studio.limits`` (the non-zeros of W, the active neurons, the state's
memory), on by default and kept per network in its file's ``"limits"``. This
dialog shows the bounds in force (the defaults where the file sets none),
lets the user switch each off or change it, and applies the change as an
undoable edit of the design; during a run it applies at once, so a run
stopped at a bound goes on after the bound is raised.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from ..limits import Limits
from .commands import DocCommand

WHAT = {
    "max_weights": ("Weights of W", "the non-zeros of the network matrix", ""),
    "max_active": ("Active neurons", "the neurons with a row or a column in W", ""),
    "max_state_mb": ("State memory", "an estimate of the state's memory", " MiB"),
}


class LimitsDialog(QDialog):
    """One row per bound: on/off, its value, its default."""

    def __init__(self, limits: Limits, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Limits")
        default = Limits()
        grid = QGridLayout()
        self.boxes: dict[str, QCheckBox] = {}
        self.spins: dict[str, QAbstractSpinBox] = {}
        for row, f in enumerate(fields(Limits)):
            name, tip, unit = WHAT[f.name]
            now = getattr(limits, f.name)
            base = getattr(default, f.name)
            box = QCheckBox(name)
            box.setToolTip(f"{tip} ({f.name} in the file; off: no bound)")
            spin: QAbstractSpinBox
            if f.name == "max_state_mb":
                spin = QDoubleSpinBox()
                spin.setDecimals(0)
                spin.setRange(0, 1e9)
            else:
                spin = QSpinBox()
                spin.setRange(0, 2_000_000_000)
                spin.setGroupSeparatorShown(True)
            spin.setSuffix(unit)
            spin.setValue(now if now is not None else base)  # type: ignore[attr-defined]
            spin.setEnabled(now is not None)
            box.setChecked(now is not None)
            box.toggled.connect(spin.setEnabled)
            grid.addWidget(box, row, 0)
            grid.addWidget(spin, row, 1)
            grid.addWidget(QLabel(f"default {base:,.0f}{unit}"), row, 2)
            self.boxes[f.name], self.spins[f.name] = box, spin
        note = QLabel(
            "A step that would cross a bound is not taken: the run stops, keeping the last "
            "state, and names the bound and the neuron that grew W. Raise the bound to go on."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.defaults = QPushButton("Defaults")
        buttons.addButton(self.defaults, QDialogButtonBox.ButtonRole.ResetRole)
        self.defaults.clicked.connect(lambda: self.show_limits(Limits()))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addWidget(note)
        lay.addWidget(buttons)

    def show_limits(self, limits: Limits) -> None:
        default = Limits()
        for name, box in self.boxes.items():
            now = getattr(limits, name)
            box.setChecked(now is not None)
            self.spins[name].setValue(now if now is not None else getattr(default, name))  # type: ignore[attr-defined]

    def limits(self) -> Limits:
        """The bounds as the dialog shows them."""
        values: dict[str, Any] = {}
        for name, box in self.boxes.items():
            x = self.spins[name].value()  # type: ignore[attr-defined]
            values[name] = (int(x) if name != "max_state_mb" else float(x)) if box.isChecked() else None
        return Limits.from_dict(values)


class SetLimits(DocCommand):
    """The network's ``limits`` (what its file holds: the bounds that differ
    from the defaults), undoable; ``applied(dict)`` is told each change."""

    def __init__(self, doc: Any, old: dict[str, Any], new: dict[str, Any], applied: Any = None) -> None:
        super().__init__(doc, "change the limits")
        self.old, self.new, self.applied = dict(old), dict(new), applied

    def _set(self, d: dict[str, Any]) -> None:
        self.doc.network.limits = dict(d)
        if self.applied is not None:
            self.applied(dict(d))

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)


def set_limits(window: Any, limits: Limits) -> bool:
    """Give the window's design the bounds ``limits`` (an undoable edit; during
    a run, applied to the running machine too). False when nothing changed."""
    doc = window.doc
    old = dict(doc.network.limits)
    new = limits.to_dict()
    if Limits.from_dict(old) == limits:
        return False
    doc.undo_stack.push(SetLimits(doc, old, new, lambda d: window._on_edit("set_limits", d)))
    return True


def open_limits_dialog(window: Any) -> LimitsDialog:
    """Show the dialog (modeless); OK applies its bounds (``set_limits``)."""
    try:
        now = Limits.from_dict(window.doc.network.limits)
    except ValueError:
        now = Limits()
    dlg = LimitsDialog(now, window)
    dlg.accepted.connect(lambda: set_limits(window, dlg.limits()))
    dlg.show()
    window.limits_dialog = dlg
    return dlg
