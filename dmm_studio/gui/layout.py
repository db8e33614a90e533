"""The main window's layout: a window inside the screen, and a canvas that
keeps its zoom and centre when its size changes.

- ``default_size(window) -> QSize``: 1400 x 900, or less on a smaller screen
  (at most 92 % of the screen's available width and height).
- ``place_on_screen(window)``: that size, centred on the window's screen.
- ``inside_screen(window) -> bool``: the whole frame lies on one screen's
  available area.
- ``KeepView(viewer, refit)``: an event filter that keeps a NodeGraphQt viewer's
  scale and the scene point at its centre when it is resized (a dock opened or
  closed, the window resized). NodeGraphQt's own resize keeps the scene range
  instead, so that the view zooms out when it gets smaller. While the window
  settles (``settle(ms)``, from its first show until the user touches the
  canvas or ``ms`` pass) a resize calls ``refit`` instead: a window manager
  that gives the window its size late must not leave the network half in view.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QRectF, QSize, QTimer
from PySide6.QtGui import QGuiApplication

DEFAULT_SIZE = QSize(1400, 900)
SCREEN_SHARE = 0.92


def _screen(window: Any) -> Any:
    return window.screen() or QGuiApplication.primaryScreen()


def default_size(window: Any) -> QSize:
    screen = _screen(window)
    if screen is None:
        return QSize(DEFAULT_SIZE)
    avail = screen.availableGeometry()
    return QSize(
        min(DEFAULT_SIZE.width(), int(avail.width() * SCREEN_SHARE)),
        min(DEFAULT_SIZE.height(), int(avail.height() * SCREEN_SHARE)),
    )


def place_on_screen(window: Any) -> None:
    """Give the window its default size, centred on its screen."""
    size = default_size(window)
    window.resize(size)
    screen = _screen(window)
    if screen is not None:
        avail = screen.availableGeometry()
        frame = window.frameGeometry()
        w, h = max(frame.width(), window.width()), max(frame.height(), window.height())
        x = avail.x() + max(0, (avail.width() - w) // 2)
        y = avail.y() + max(0, (avail.height() - h) // 2)
        window.move(QPoint(x, y))


def inside_screen(window: Any) -> bool:
    """True when the window (with its frame) lies within some screen's available area."""
    frame = window.frameGeometry()
    return any(s.availableGeometry().contains(frame) for s in QGuiApplication.screens())


class KeepView(QObject):
    """Keeps ``viewer``'s zoom and centre through resizes (install with
    ``viewer.installEventFilter(KeepView(viewer))``).

    NodeGraphQt's ``resizeEvent`` fits its scene range (``_scene_range``) into
    the new size. Before it runs, this filter sets that range to what the new
    size shows at the current scale around the current centre, so that fitting
    it changes nothing."""

    # QGraphicsView.fitInView leaves a margin of 2 pixels on each side
    MARGIN = 4
    # what this relies on in NodeGraphQt's NodeViewer (checked by a test, as
    # canvas/ngqt.py's PRIVATES are): its attributes, and the lines of its resizeEvent
    PRIVATES = ("self._scene_range", "self._last_size", "self._set_viewer_zoom(delta)")

    USER = (QEvent.Type.Wheel, QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress)

    def __init__(self, viewer: Any, refit: Any = None) -> None:
        super().__init__(viewer)
        self.viewer = viewer
        self.refit = refit
        self.settling = False
        viewer.installEventFilter(self)
        viewer.viewport().installEventFilter(self)

    def settle(self, ms: int) -> None:
        """Until the user touches the canvas, or ``ms`` pass: a resize refits."""
        self.settling = True
        QTimer.singleShot(ms, self.stop_settling)

    def stop_settling(self) -> None:
        self.settling = False

    def eventFilter(self, obj: Any, event: Any) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if obj is self.viewer and kind == QEvent.Type.Resize:
            self._keep(event.size())
            if self.settling and self.refit is not None:
                QTimer.singleShot(0, self.refit)
        elif kind in self.USER:
            self.settling = False
        return False

    def _keep(self, new: QSize) -> None:
        v = self.viewer
        rng = getattr(v, "_scene_range", None)
        if rng is None or new.width() <= 0 or new.height() <= 0:
            return
        scale = v.transform().m11()
        if scale <= 0:
            return
        # the viewport's new size: the view's, less its frame (no scroll bars)
        frame = 2 * v.frameWidth()
        vw, vh = new.width() - frame - self.MARGIN, new.height() - frame - self.MARGIN
        if vw <= 0 or vh <= 0:
            return
        # NodeGraphQt then scales the range by 1.001 ** max(new / last size): with
        # the last size set to the new one that is 1.001, undone here beforehand
        v._last_size = QSize(new)
        k = 1.001
        c = rng.center()
        w, h = vw / scale * k, vh / scale * k
        v._scene_range = QRectF(c.x() - w / 2, c.y() - h / 2, w, h)
