"""The studio asks before a network reads files outside its folder.

``data.text_reader`` names a file in a param, and params come from the
network file: a file from someone else could name ``~/.ssh/id_rsa`` and copy
it into traces and snapshots. The core refuses such a path unless allowed
(``dmm_studio.datafiles``); the CLI allows it with ``--allow-outside-files``,
and the studio, before each Step or Run, asks the user about the paths it
has not asked about yet (``confirm_outside_files``). Allowed, the design's
``allow_outside_files`` is set for the session (never saved); refused, the
run goes on and the reading step stops with the one line that names the path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox

from ..datafiles import outside_paths

MAX_SHOWN = 8


def network_folder(window: Any) -> Path:
    """The folder a design's data paths start from, as ``Machine`` takes it:
    its file's, else the current directory."""
    source = window.doc.network.source
    return Path(source).parent if source else Path.cwd()


def confirm_outside_files(window: Any) -> bool | None:
    """Ask about the design's data paths outside its folder that were not asked
    about before. Returns True (allowed now: the machine must be loaded again),
    False (refused) or None (nothing to ask). Without a user to ask
    (``window.asks_user`` false) nothing is allowed."""
    net = window.doc.network
    if net.allow_outside_files:
        return None
    found = outside_paths(net.params, network_folder(window))
    asked: set[tuple[str, ...]] = window.__dict__.setdefault("_outside_asked", set())
    new = [f for f in found if f not in asked]
    if not new:
        return None
    asked.update(new)
    if not window.asks_user:
        window.show_message(_refused_text(new))
        return False
    lines = "\n".join(f"  {f}/{n}: {path}" for f, n, _, path in new[:MAX_SHOWN])
    more = f"\n  ... and {len(new) - MAX_SHOWN} more" if len(new) > MAX_SHOWN else ""
    B = QMessageBox.StandardButton
    answer = QMessageBox.question(
        window,
        "Files outside the network's folder",
        f"This network reads files outside its folder ({network_folder(window)}):\n\n{lines}{more}\n\n"
        "What it reads goes into its outputs, traces and snapshots. Allow it to read them "
        "(for this session)?",
        B.Yes | B.No,
        B.No,
    )
    if answer == B.Yes:
        net.allow_outside_files = True
        window.show_message("reading files outside the network's folder is allowed for this session")
        return True
    window.show_message(_refused_text(new))
    return False


def _refused_text(found: list[tuple[str, str, str, str]]) -> str:
    f, n, _, path = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"not allowed: {f}/{n} reads {path}, outside the network's folder{more}"
