"""File operations of the main window, as a mixin that ``MainWindow`` inherits:
New, Open, Open Recent, Save, Save As, snapshots of the running state, and
the offer to restore the autosave of a studio that crashed (issue 11: work is
never lost). ``maybe_save`` asks to save unsaved changes before anything
replaces or closes the design.

The mixin uses the window's ``doc``, ``runner``, ``canvas``, ``recent``,
``recent_menu``, ``autosave``, ``asks_user``, ``live``, ``open_network``,
``show_message``, ``_update_title`` and its ``snapshot_saved`` signal.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..designcheck import undeclared_message, undeclared_ports
from ..fileformat import NetworkFileError, load_network
from ..matrix import matrix_neurons
from ..network import Network, neuron_key
from .autosave import recoverable


class FileOps:
    """File -> New/Open/Open Recent/Save/Save As/Save Snapshot and recovery,
    mixed into ``MainWindow`` (see ``dmm_studio.gui.main_window``)."""

    # ------------------------------------------------------------- files
    def maybe_save(self) -> bool:
        """Before the open design is replaced or closed: if it has unsaved
        changes, ask to save them. True when the caller may go on (saved, or
        discarded); False on Cancel or when the save failed (the document stays
        open and unchanged). Without dialogs (offscreen) it answers True."""
        if self.doc.undo_stack.isClean() or not self.asks_user:
            return True
        B = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to {self.doc.title()}?",
            B.Save | B.Discard | B.Cancel,
            B.Save,
        )
        if answer == B.Save:
            return self.save()
        return answer == B.Discard

    def new_network(self) -> bool:
        return self.open_network(Network.empty())

    def open_file(self, path: str, ask: bool = True) -> bool:
        """Open a network file (unsaved changes: see ``open_network``)."""
        try:
            net = load_network(path, self.doc.registry)
        except NetworkFileError as e:
            self.show_message(str(e))
            if self.asks_user and self.isVisible():
                QMessageBox.warning(self, "Cannot open", str(e))
            return False
        if not self.open_network(net, path, ask=ask):
            return False
        self.canvas.frame_all()
        # wires into ports the types do not declare: drawn marked on the canvas, and said here
        reg = net.registry or self.doc.registry
        found = undeclared_ports(net.matrix, reg)
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            self.show_message(undeclared_message(*found[0], reg) + more)
        return True

    def open_dialog(self) -> bool:
        if not self.maybe_save():
            return False
        start = str(Path(self.doc.path).parent) if self.doc.path else ""
        path, _ = QFileDialog.getOpenFileName(
            self, "Open network", start, "DMM networks (*.dmm.json);;JSON (*.json)"
        )
        return self.open_file(path, ask=False) if path else False

    def open_recent(self, path: str) -> bool:
        """File -> Open Recent: a file that is gone is said so and leaves the list."""
        if not self.maybe_save():
            return False
        if not os.path.isfile(path):
            self.recent.remove(path)
            self.show_message(f"{path} is gone: removed from the recent files")
            if self.asks_user:
                QMessageBox.warning(self, "Cannot open", f"{path} is gone (moved or deleted).")
            return False
        return self.open_file(path, ask=False)

    def _rebuild_recent(self) -> None:
        m = self.recent_menu
        m.clear()
        paths = self.recent.paths()
        for i, path in enumerate(paths, 1):
            p = Path(path)
            label = f"&{i} {p.name}" if i < 10 else p.name
            act = m.addAction(f"{label}  ({p.parent})")
            act.setToolTip(path)
            act.setStatusTip(path)
            act.setData(path)
            act.triggered.connect(lambda _=False, path=path: self.open_recent(path))
        if not paths:
            m.addAction("(none yet)").setEnabled(False)
        m.addSeparator()
        clear = m.addAction("&Clear Recent")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(lambda _=False: self.recent.clear())

    def save(self) -> bool:
        """Save to the document's file (Save As when it has none). A failure
        shows why and keeps the document open and unsaved; returns False."""
        if not self.doc.path:
            return self.save_as()
        return self._save_to(self.doc.path)

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save network", self.doc.path or "untitled.dmm.json", "DMM networks (*.dmm.json)"
        )
        if not path:
            return False
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        try:
            self.doc.save(path)
        except Exception as e:  # noqa: BLE001 - any failure: the user is told, the work stays
            why = _reason(e)
            self.show_message(f"cannot save {path}: {why}")
            if self.asks_user:
                QMessageBox.critical(
                    self,
                    "Cannot save",
                    f"Cannot save {path}:\n{why}\n\n"
                    "Nothing was lost: the network stays open. Try Save As to another place.",
                )
            return False
        self.show_message(f"saved {path}")
        return True

    def save_snapshot(self, path: str) -> None:
        """The running state (y_t, W_t) as a new network file, with the design's
        layout (and the places of the run-time neurons).

        Never blocks: the worker takes the snapshot between two steps, and the
        file is written when it arrives (``snapshot_saved(path, t)``, or a
        message in the status bar if it could not be)."""
        if not self.live:
            self._write_snapshot(path, self.doc.network.copy(), self.runner.t, "")
            return
        self.show_message(f"taking a snapshot for {path}...")
        self.runner.request_snapshot(lambda net, t, error: self._write_snapshot(path, net, t, error))

    def _write_snapshot(self, path: str, net: Network | None, t: int, error: str) -> None:
        if net is None:
            self.show_message(f"no snapshot: {error}")
            return
        if self.live:
            layout = dict(self.doc.network.layout)
            held = set(matrix_neurons(net.matrix))
            for nid in held & self.canvas.runtime.keys():
                x, y = self.canvas.node_pos(nid)
                layout.setdefault(neuron_key(*nid), {"pos": [x, y]})
            net.layout = layout
        net.meta = dict(net.meta)
        net.meta["snapshot_of_step"] = t
        try:
            net.save(path)
        except OSError as e:
            self.show_message(f"cannot save the snapshot to {path}: {e}")
            return
        self.show_message(f"saved the state at step {t} to {path}")
        self.snapshot_saved.emit(path, t)

    def save_snapshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save snapshot", "snapshot.dmm.json", "DMM networks (*.dmm.json)"
        )
        if path:
            self.save_snapshot(path)

    # ------------------------------------------------------------- recovery
    def offer_recovery(self) -> bool:
        """After a crash: offer to restore the newest autosave left behind (or to
        discard it; Cancel keeps it for the next start). True when restored."""
        if self.autosave is None:
            return False
        found = recoverable(self.autosave.folder)
        if not found:
            return False
        rec = found[0]
        more = (
            f"\n\n({len(found) - 1} older autosave(s) will be offered next time.)" if len(found) > 1 else ""
        )
        when = _when(rec.saved_at)
        where = rec.path or "an untitled network"
        B = QMessageBox.StandardButton
        if not self.asks_user:
            return False
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore unsaved work?",
            f"DMM Studio did not close properly. Unsaved work on {where} was autosaved at {when}.\n\n"
            f"Restore it?{more}",
            B.Yes | B.Discard | B.Cancel,
            self,
        )
        box.button(B.Yes).setText("Restore")
        box.button(B.Cancel).setText("Later")
        box.setDefaultButton(B.Yes)
        answer = box.exec()
        if answer == B.Discard:
            rec.remove()
            return False
        if answer != B.Yes or not self.maybe_save():
            return False
        return self.restore_autosave(rec)

    def restore_autosave(self, rec: Any) -> bool:
        """Open an autosave as unsaved work on its file (saving writes to that file)."""
        try:
            net = load_network(rec.file, self.doc.registry)
        except NetworkFileError as e:
            self.show_message(f"cannot restore the autosave: {e}")
            return False
        self.open_network(net, rec.path, ask=False)
        self.doc.undo_stack.resetClean()  # unsaved: the file on disk is older
        self._update_title()
        if self.autosave is not None:
            self.autosave.save_now()  # this session's copy, before the old one goes
        rec.remove()
        self.show_message(f"restored the work autosaved at {_when(rec.saved_at)}: save it to keep it")
        QTimer.singleShot(0, self.canvas.frame_all)
        return True


def _reason(e: BaseException) -> str:
    """A failed save in words: the system's reason and the file or folder it names."""
    if isinstance(e, OSError) and e.strerror:
        name = e.filename
        if isinstance(name, str) and Path(name).name.startswith("."):  # the temporary file
            name = str(Path(name).parent)
        return f"{e.strerror} ({name})" if name else e.strerror
    return str(e) or type(e).__name__


def _when(t: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))
