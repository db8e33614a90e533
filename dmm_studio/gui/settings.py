"""What the studio keeps between launches.

- ``settings() -> QSettings``: window geometry, dock layout and recent files, in
  an INI file in the user's configuration folder (``~/.config/dmm-studio/studio.ini``
  on Linux). Tests point it elsewhere with ``QSettings.setPath``.
- ``state_dir() -> Path``: the user's state folder (``platformdirs.user_state_dir``,
  ``~/.local/state/dmm-studio`` on Linux); autosaved work goes in its ``recovery/``.
- ``RecentFiles``: File -> Open Recent's list (newest first, at most ``MAX``),
  kept in the settings, or in memory alone when there are none.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from PySide6.QtCore import QSettings

ORGANIZATION = "dmm-studio"
APPLICATION = "studio"


def settings() -> QSettings:
    """The studio's settings (an INI file: readable and the same on every platform)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def state_dir() -> Path:
    """The user's state folder for the studio (created on demand by its users)."""
    return Path(platformdirs.user_state_dir("dmm-studio", appauthor=False))


class RecentFiles:
    """The recently opened or saved network files, newest first (absolute paths).

    ``store`` None keeps the list in memory (a window that remembers nothing
    between launches, as in tests and the screenshot mode)."""

    KEY = "recent/files"
    MAX = 10

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store
        self._mem: list[str] = []

    def paths(self) -> list[str]:
        if self.store is None:
            return list(self._mem)
        value = self.store.value(self.KEY, [])
        if isinstance(value, str):  # QSettings gives a lone string for a list of one
            value = [value]
        return [str(p) for p in value or [] if p]

    def _set(self, paths: list[str]) -> None:
        paths = paths[: self.MAX]
        if self.store is None:
            self._mem = paths
        else:
            self.store.setValue(self.KEY, paths)
            self.store.sync()

    def add(self, path: str) -> None:
        p = os.path.abspath(path)
        self._set([p] + [q for q in self.paths() if q != p])

    def remove(self, path: str) -> None:
        p = os.path.abspath(path)
        self._set([q for q in self.paths() if q != p])

    def clear(self) -> None:
        self._set([])
