"""Autosave and crash recovery.

While the open design has unsaved changes, ``Autosave`` writes it every
``INTERVAL_MS`` (30 s) and whenever a run starts or stops, to
``<folder>/<session>.dmm.json`` (the folder is ``recovery/`` in the user's
state folder, see ``settings.state_dir``), with ``<session>.json`` beside it
(the file the work belongs to, its title, the time). Each running studio holds
``<session>.lock`` (a ``QLockFile``, released by the operating system's
process table when the process dies). When the work is saved or discarded the
autosave goes; when the studio ends cleanly the whole session goes.

An autosave whose lock nobody holds is the work of a studio that crashed:
``recoverable(folder)`` lists them, newest first, and the next studio offers to
restore or discard them (``MainWindow.offer_recovery``).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, QTimer

from ..fileformat import save_network

INTERVAL_MS = 30_000
SUFFIX = ".dmm.json"


@dataclass(frozen=True)
class Recovery:
    """An autosave left by a studio that did not end cleanly."""

    file: Path  # the autosaved network
    path: str | None  # the file the work belongs to (None: untitled)
    title: str
    saved_at: float  # seconds since the epoch

    @property
    def session(self) -> str:
        return self.file.name[: -len(SUFFIX)]

    def remove(self) -> None:
        """Forget it (after restoring or discarding)."""
        for p in (self.file, self.file.with_name(self.session + ".json")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        _unlink_lock(self.file.parent, self.session)


def _unlink_lock(folder: Path, session: str) -> None:
    lock = QLockFile(str(folder / f"{session}.lock"))
    lock.setStaleLockTime(0)
    if lock.tryLock(0):  # only a lock that nobody holds
        lock.unlock()


def recoverable(folder: Path) -> list[Recovery]:
    """The autosaves in ``folder`` whose studio is gone (its lock is free), newest first."""
    out = []
    if not folder.is_dir():
        return out
    for f in folder.glob("*" + SUFFIX):
        session = f.name[: -len(SUFFIX)]
        lock = QLockFile(str(folder / f"{session}.lock"))
        lock.setStaleLockTime(0)  # stale only when its process is gone
        if not lock.tryLock(0):
            continue  # a studio that is running now
        lock.unlock()
        info: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(f.with_name(session + ".json").read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            info = {}
        path = info.get("path") if isinstance(info.get("path"), str) else None
        title = str(info.get("title") or (Path(path).name if path else "untitled"))
        try:
            when = float(info.get("saved_at") or f.stat().st_mtime)
        except (OSError, TypeError, ValueError):
            when = 0.0
        out.append(Recovery(f, path, title, when))
    return sorted(out, key=lambda r: r.saved_at, reverse=True)


class Autosave(QObject):
    """Saves ``window.doc`` to the recovery folder while it has unsaved changes.

    ``save_now()`` writes it (False when there is nothing unsaved or the write
    failed: the reason goes to the window's status bar); ``discard()`` removes
    this session's autosave; ``close()`` ends the session (the studio closed
    cleanly)."""

    def __init__(self, window: Any, folder: Path, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(window)
        self.window = window
        self.folder = Path(folder)
        self.session = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.error: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self.error = f"cannot make the recovery folder {self.folder}: {e}"
        self.lock = QLockFile(str(self.folder / f"{self.session}.lock"))
        self.lock.setStaleLockTime(0)
        if self.error is None and not self.lock.tryLock(0):
            self.error = f"cannot lock {self.lock.fileName()}"
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self._changed = False  # edited since the last autosave
        self._hook(window.doc)
        window.doc.replaced.connect(self._on_replaced)
        runner = getattr(window, "runner", None)
        if runner is not None:
            runner.running_changed.connect(lambda _on: self.save_now())

    @property
    def file(self) -> Path:
        return self.folder / f"{self.session}{SUFFIX}"

    def _hook(self, doc: Any) -> None:
        doc.undo_stack.indexChanged.connect(self._on_edit)
        doc.undo_stack.cleanChanged.connect(self._on_clean)

    def _on_edit(self, _index: int = 0) -> None:
        self._changed = True

    def _on_clean(self, clean: bool) -> None:
        if clean:  # saved (or undone back to the saved state): nothing to recover
            self.discard()

    def _on_replaced(self) -> None:
        self._changed = not self.window.doc.undo_stack.isClean()
        if not self._changed:
            self.discard()

    def _tick(self) -> None:
        if self._changed:
            self.save_now()

    def save_now(self) -> bool:
        doc = self.window.doc
        if doc.undo_stack.isClean():
            return False
        # an absolute path: the next studio may start in another folder
        path = os.path.abspath(doc.path) if doc.path else None
        info = {"path": path, "title": doc.title(), "saved_at": time.time(), "pid": os.getpid()}
        try:
            self.file.with_name(self.session + ".json").write_text(json.dumps(info), encoding="utf-8")
            save_network(doc.network, self.file)
        except Exception as e:  # noqa: BLE001 - an autosave never stops the studio
            self.window.show_message(f"autosave failed: {e}")
            return False
        self._changed = False
        return True

    def discard(self) -> None:
        """Remove this session's autosave (the work was saved or thrown away)."""
        self._changed = False
        for p in (self.file, self.file.with_name(self.session + ".json")):
            with contextlib.suppress(OSError):  # gone already, or a folder we cannot write
                p.unlink()

    def close(self) -> None:
        """The studio ends cleanly: no autosave left, the lock released."""
        self.timer.stop()
        self.discard()
        if self.lock.isLocked():
            self.lock.unlock()
