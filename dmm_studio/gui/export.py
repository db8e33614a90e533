"""File -> Export Canvas as PNG / SVG: the whole network as a picture.

- ``network_rect(canvas, margin=40) -> QRectF``: the scene rectangle that
  holds every node (design and run-time) and every backdrop and comment.
- ``export_png(canvas, path, scale=2.0) -> QSize``: a raster picture at
  ``scale`` pixels per scene unit (2: sharp on a high-DPI screen), capped at
  ``MAX_SIDE`` pixels a side; raises ``OSError`` when the file cannot be written.
- ``export_svg(canvas, path) -> QSize``: a vector picture (``QSvgGenerator``
  of ``PySide6.QtSvg``, part of PySide6-Essentials); node names, types and
  weights are SVG text. Raises ``OSError`` when the file cannot be written.
- ``install(window)``: the two File menu entries (with a file dialog).

The picture is drawn at full detail whatever the zoom (nodes with their
names and ports, wires with their weights), on the canvas's background colour
without the grid; the view itself is left as it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QFileDialog

MAX_SIDE = 16000  # pixels: a larger picture is drawn at a smaller scale


def network_rect(canvas: Any, margin: float = 40.0) -> QRectF:
    """Every node, backdrop and comment of the canvas, with ``margin`` around them."""
    rect = QRectF()
    for node in [*canvas.nodes.values(), *canvas.runtime.values()]:
        rect = rect.united(node.view.sceneBoundingRect())
    notes = getattr(canvas, "notes", None)
    if notes is not None:
        for item in notes.items():
            rect = rect.united(item.sceneBoundingRect())
    if rect.isNull():
        rect = QRectF(-100, -100, 200, 200)
    return rect.adjusted(-margin, -margin, margin, margin)


@contextmanager
def _full_detail(canvas: Any) -> Iterator[QColor]:
    """Nodes and labels drawn in full, no grid, while the picture is taken;
    yields the background colour."""
    from .canvas.ngqt import NeuronNodeItem, WeightPipe

    viewer = canvas.viewer
    scene = viewer.scene()
    shown_detail, shown_labels = viewer.detail_shown, viewer.labels_shown
    grid = scene.grid_mode
    changed = []
    if not shown_detail or not shown_labels:
        for item in scene.items():
            if isinstance(item, NeuronNodeItem) and not shown_detail:
                item.set_detail(True)
                changed.append(item)
            elif isinstance(item, WeightPipe) and item.label is not None and not shown_labels:
                item.label.setVisible(True)
                changed.append(item)
    from NodeGraphQt.constants import ViewerEnum

    scene.grid_mode = ViewerEnum.GRID_DISPLAY_NONE.value
    try:
        yield QColor(*scene.background_color[:3])
    finally:
        scene.grid_mode = grid
        for item in changed:
            if isinstance(item, NeuronNodeItem):
                item.set_detail(False)
            else:
                item.label.setVisible(False)


def _render(canvas: Any, painter: QPainter, target: QRectF, source: QRectF, bg: QColor) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    painter.fillRect(target, bg)
    canvas.viewer.scene().render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)


def export_png(canvas: Any, path: str | os.PathLike[str], scale: float = 2.0) -> QSize:
    """Write the whole network as a PNG; returns the picture's size in pixels."""
    source = network_rect(canvas)
    scale = min(scale, MAX_SIDE / max(source.width(), source.height()))
    size = QSize(max(1, round(source.width() * scale)), max(1, round(source.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32)
    with _full_detail(canvas) as bg:
        painter = QPainter(image)
        try:
            _render(canvas, painter, QRectF(0, 0, size.width(), size.height()), source, bg)
        finally:
            painter.end()
    if not image.save(os.fspath(path), "PNG"):
        raise OSError(f"cannot write the picture {os.fspath(path)}")
    return size


def export_svg(canvas: Any, path: str | os.PathLike[str], title: str = "DMM network") -> QSize:
    """Write the whole network as SVG (one scene unit a pixel); returns its size."""
    source = network_rect(canvas)
    size = QSize(max(1, round(source.width())), max(1, round(source.height())))
    out = os.fspath(path)
    d = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(d) or (os.path.exists(out) and not os.access(out, os.W_OK)):
        raise OSError(f"cannot write the picture {out}")
    from PySide6.QtSvg import QSvgGenerator  # on first use: the studio starts without it

    gen = QSvgGenerator()
    gen.setFileName(out)
    gen.setSize(size)
    gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
    gen.setTitle(title)
    gen.setDescription("exported from DMM Studio")
    with _full_detail(canvas) as bg:
        painter = QPainter()
        if not painter.begin(gen):
            raise OSError(f"cannot write the picture {out}")
        try:
            _render(canvas, painter, QRectF(0, 0, size.width(), size.height()), source, bg)
        finally:
            painter.end()
    if not os.path.isfile(out) or os.path.getsize(out) == 0:
        raise OSError(f"cannot write the picture {out}")
    return size


def _export_dialog(window: Any, kind: str) -> None:
    base = os.path.splitext(os.path.splitext(window.doc.path or "network")[0])[0]
    path, _ = QFileDialog.getSaveFileName(
        window, f"Export Canvas as {kind.upper()}", f"{base}.{kind}", f"{kind.upper()} pictures (*.{kind})"
    )
    if not path:
        return
    if not path.lower().endswith(f".{kind}"):
        path += f".{kind}"
    try:
        size = (export_png if kind == "png" else export_svg)(window.canvas, path)
    except OSError as e:
        window.show_message(str(e))
        return
    window.show_message(f"exported the canvas to {path} ({size.width()} x {size.height()})")


def install(window: Any) -> None:
    """File -> Export Canvas as PNG... / SVG... (before Quit)."""
    menu = window.menus["File"]
    anchor = window.actions_by_name.get("Quit")
    acts = menu.actions()
    if anchor in acts and acts.index(anchor) > 0 and acts[acts.index(anchor) - 1].isSeparator():
        anchor = acts[acts.index(anchor) - 1]  # above the separator before Quit
    for kind in ("png", "svg"):
        act = window._act(
            "File",
            f"Export Canvas as {kind.upper()}...",
            lambda kind=kind: _export_dialog(window, kind),
            tip=f"the whole network as a {kind.upper()} picture",
        )
        if anchor is not None:  # _act appended it: move it above Quit
            menu.removeAction(act)
            menu.insertAction(anchor, act)
