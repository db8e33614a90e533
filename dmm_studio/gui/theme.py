"""View -> Theme: a light and a dark look for the whole studio, remembered
with its settings (``view/theme`` in ``settings.settings()``).

- ``THEMES``: ``"system"`` (the platform's style for the panels and the dark
  canvas the studio always had: the default), ``"dark"`` and ``"light"``.
- ``apply_theme(window, name)``: the application's palette (Qt's Fusion
  style for light and dark), the canvas (background, grid, weight labels,
  the type above each node), the minimap, and pyqtgraph's plots: those open
  (background, axes) and those made later (``pyqtgraph.setConfigOptions``).
  Raises ``KeyError`` for an unknown name.
- ``install(window)``: the View -> Theme submenu; a window that remembers its
  layout (``remember=True``) starts in the theme chosen last and keeps the choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QActionGroup, QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

SETTING = "view/theme"
DEFAULT = "system"


@dataclass(frozen=True)
class Theme:
    name: str
    title: str
    canvas_bg: tuple[int, int, int]
    grid: tuple[int, int, int]
    label_bg: tuple[int, int, int, int]
    label_fg: tuple[int, int, int]
    type_fg: tuple[int, int, int]
    plot_bg: str  # pyqtgraph colours
    plot_fg: str
    minimap_bg: tuple[int, int, int, int]
    minimap_frame: tuple[int, int, int, int]
    minimap_wire: tuple[int, int, int, int]
    palette: dict[str, str] | None  # QPalette roles; None: the platform's palette
    dots: bool = False  # a grid of dots (NodeGraphQt's lines are too dark on a light canvas)
    # the compact probe views (inspect/fastviews: painted by hand): background, text, grid
    probe: tuple[tuple[int, int, int], ...] = ((255, 255, 255), (40, 40, 40), (225, 225, 225))


_DARK_CANVAS = {
    "canvas_bg": (35, 35, 35),
    "grid": (45, 45, 45),
    "label_bg": (30, 30, 34, 230),
    "label_fg": (225, 225, 225),
    "type_fg": (190, 190, 190),
    "minimap_bg": (24, 24, 28, 255),
    "minimap_frame": (255, 255, 255, 200),
    "minimap_wire": (150, 150, 150, 60),
}

THEMES: dict[str, Theme] = {
    "system": Theme("system", "&System", plot_bg="k", plot_fg="d", palette=None, **_DARK_CANVAS),  # type: ignore[arg-type]
    "dark": Theme(
        "dark",
        "&Dark",
        plot_bg="#1e1e22",
        plot_fg="#c8c8c8",
        palette={
            "Window": "#2b2b2e",
            "WindowText": "#dcdcdc",
            "Base": "#1f1f22",
            "AlternateBase": "#29292c",
            "ToolTipBase": "#2f2f33",
            "ToolTipText": "#e6e6e6",
            "Text": "#dcdcdc",
            "Button": "#343438",
            "ButtonText": "#dcdcdc",
            "BrightText": "#ff6060",
            "Highlight": "#3d6fa8",
            "HighlightedText": "#ffffff",
            "Link": "#7fb2f0",
            "PlaceholderText": "#8a8a8a",
            "Mid": "#444448",
            "Dark": "#1a1a1c",
            "Light": "#4a4a4e",
        },
        probe=((32, 32, 36), (215, 215, 215), (62, 62, 68)),
        **_DARK_CANVAS,  # type: ignore[arg-type]
    ),
    "light": Theme(
        "light",
        "&Light",
        canvas_bg=(236, 236, 232),
        grid=(206, 206, 200),
        label_bg=(255, 255, 255, 235),
        label_fg=(30, 30, 30),
        type_fg=(70, 70, 70),
        plot_bg="w",
        plot_fg="#303030",
        minimap_bg=(250, 250, 248, 255),
        minimap_frame=(40, 90, 160, 230),
        minimap_wire=(90, 90, 90, 60),
        palette={
            "Window": "#efefec",
            "WindowText": "#202020",
            "Base": "#ffffff",
            "AlternateBase": "#f4f4f1",
            "ToolTipBase": "#ffffe8",
            "ToolTipText": "#202020",
            "Text": "#202020",
            "Button": "#e6e6e2",
            "ButtonText": "#202020",
            "BrightText": "#c00000",
            "Highlight": "#3d7bd0",
            "HighlightedText": "#ffffff",
            "Link": "#1d5fb4",
            "PlaceholderText": "#8a8a8a",
            "Mid": "#c4c4c0",
            "Dark": "#a0a09c",
            "Light": "#ffffff",
        },
        dots=True,
    ),
}

_platform: dict[str, Any] = {}  # the style and palette the application started with


def _app_look(theme: Theme) -> None:
    app = QApplication.instance()
    if app is None:
        return
    if not _platform:
        _platform["style"] = app.style().name()
        _platform["palette"] = QPalette(app.palette())
    if theme.palette is None:
        app.setStyle(_platform["style"])
        app.setPalette(_platform["palette"])
        return
    app.setStyle("Fusion")
    pal = QPalette()
    for role, color in theme.palette.items():
        pal.setColor(getattr(QPalette.ColorRole, role), QColor(color))
    for role in ("Text", "WindowText", "ButtonText"):  # greyed out when disabled
        pal.setColor(QPalette.ColorGroup.Disabled, getattr(QPalette.ColorRole, role), QColor("#808080"))
    app.setPalette(pal)


def _canvas_look(canvas: Any, theme: Theme) -> None:
    from .canvas.ngqt import LOOK, NeuronNodeItem, WeightPipe

    LOOK["label_bg"] = QColor(*theme.label_bg)
    LOOK["label_fg"] = QColor(*theme.label_fg)
    LOOK["type_fg"] = QColor(*theme.type_fg)
    canvas.graph.set_background_color(*theme.canvas_bg)
    canvas.graph.set_grid_color(*theme.grid)
    from NodeGraphQt.constants import ViewerEnum

    canvas.graph.set_grid_mode(
        ViewerEnum.GRID_DISPLAY_DOTS.value if theme.dots else ViewerEnum.GRID_DISPLAY_LINES.value
    )
    for item in canvas.viewer.scene().items():
        if isinstance(item, WeightPipe) and item.label is not None:
            item.label.setBrush(LOOK["label_bg"])
            if not item.live_only:
                item.label.text.setBrush(LOOK["label_fg"])
        elif isinstance(item, NeuronNodeItem) and not item.runtime:
            item.type_label.setBrush(LOOK["type_fg"])
    canvas.viewer.resetCachedContent()  # the background is cached (CacheBackground)
    canvas.viewer.viewport().update()


def _plots_look(window: Any, theme: Theme) -> None:
    import pyqtgraph as pg

    pg.setConfigOptions(background=theme.plot_bg, foreground=theme.plot_fg)
    fg = pg.mkColor(theme.plot_fg)
    for view in window.findChildren(pg.GraphicsView):
        view.setBackground(theme.plot_bg)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen(fg)
                item.setTextPen(fg)
            elif isinstance(item, pg.LabelItem):
                item.setText(item.text, color=fg)


def _probes_look(window: Any, theme: Theme) -> None:
    """The compact probe views paint with their module's colours: set them, repaint."""
    try:
        from .inspect import fastviews
    except ImportError:
        return
    names = ("_BG", "_FG", "_GRID")
    if not all(hasattr(fastviews, n) for n in names):
        return
    for n, rgb in zip(names, theme.probe):
        setattr(fastviews, n, QColor(*rgb))
    for w in window.findChildren(QWidget):
        if type(w).__module__ == fastviews.__name__:
            w.update()


def apply_theme(window: Any, name: str) -> Theme:
    """Give the studio the look ``name`` (a key of ``THEMES``); returns it."""
    theme = THEMES[name]
    _app_look(theme)
    _canvas_look(window.canvas, theme)
    mm = getattr(window, "minimap", None)
    if mm is not None:
        mm.set_colors(QColor(*theme.minimap_bg), QColor(*theme.minimap_frame), QColor(*theme.minimap_wire))
    _plots_look(window, theme)
    _probes_look(window, theme)
    window.theme = name
    return theme


def install(window: Any) -> None:
    """View -> Theme (System, Dark, Light); the remembered one is applied."""
    from . import settings as st

    name = DEFAULT
    if window.remember:
        kept = st.settings().value(SETTING)
        if isinstance(kept, str) and kept in THEMES:
            name = kept
    menu = window.menus["View"].addMenu("&Theme")
    group = QActionGroup(window)
    window.theme_actions = {}
    for key, theme in THEMES.items():
        act = menu.addAction(theme.title)
        act.setCheckable(True)
        group.addAction(act)
        window.theme_actions[key] = act
        act.triggered.connect(lambda _=False, key=key: choose_theme(window, key))
    window.theme_actions[name].setChecked(True)
    window.theme = DEFAULT
    if name != DEFAULT:
        apply_theme(window, name)


def choose_theme(window: Any, name: str) -> None:
    """The user picked a theme: apply it and remember it."""
    from . import settings as st

    apply_theme(window, name)
    window.theme_actions[name].setChecked(True)
    if window.remember:
        s = st.settings()
        s.setValue(SETTING, name)
        s.sync()
