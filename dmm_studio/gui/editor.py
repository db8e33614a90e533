"""The editor features installed on every main window (one call from
``MainWindow.__init__``): the Help menu and F1 (``typehelp``), the minimap
(``minimap``), File -> Export Canvas as PNG / SVG (``export``), View -> Theme
(``theme``), backdrops and comments (``canvas/notes``)."""

from __future__ import annotations

from typing import Any


def install(window: Any) -> None:
    from . import export, minimap, theme, typehelp

    export.install(window)
    minimap.install(window)
    theme.install(window)
    typehelp.install(window)
    window.canvas.help_requested = lambda type_id: typehelp.help_on_type(window, type_id)
