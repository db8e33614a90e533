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
    canvas = window.canvas
    window.menus["Edit"].addSeparator()
    window._act(
        "Edit",
        "Add &Backdrop",
        lambda: canvas.notes.add_backdrop(),
        "Ctrl+G",
        "a titled rectangle behind the selected neurons (drag its title to move them together)",
    )

    def comment_here() -> None:
        at = canvas.pointer_pos()
        c = canvas.viewer.visible_rect().center()
        canvas.notes.add_comment(at if at is not None else (c.x(), c.y()))

    window._act("Edit", "Add Co&mment", comment_here, "Ctrl+Shift+C", "a note on the canvas, at the pointer")
