"""The studio (Qt). Only this package imports Qt, NodeGraphQt and pyqtgraph.

``launch(args)`` is what ``dmm-studio`` and ``dmm-studio open FILE`` call.
Modules: ``main_window`` (the window, ``add_dock``), ``canvas`` (NodeGraphQt
view over the model), ``document`` (the design, undo, edits), ``commands``
(undoable edits), ``runner`` (the engine host's handle, ``stepped(frame)``),
``palette``, ``properties``, ``model_ops`` (plain helpers).
"""

from __future__ import annotations

import os
import sys
from typing import Any

EXIT_BAD_INPUT = 2


def launch(args: Any) -> int:
    """Open the studio (``args.command`` None: an empty network; "open": a file).

    With ``--screenshot OUT.png``: offscreen, run ``--steps`` steps, save the
    window to the PNG and return 0. Bad input returns 2 with one line on stderr.
    """
    file = getattr(args, "file", None)
    shot = getattr(args, "screenshot", None)
    steps = getattr(args, "steps", 0) or 0
    engine = getattr(args, "engine", None)
    if shot and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"

    from ..engine import ENGINES
    from ..fileformat import NetworkFileError, load_network

    if engine is not None and engine not in ENGINES:
        sys.stderr.write(f"dmm-studio: unknown engine {engine!r} (one of {', '.join(sorted(ENGINES))})\n")
        return EXIT_BAD_INPUT
    net = None
    if file:
        try:
            net = load_network(file)
        except NetworkFileError as e:
            sys.stderr.write(f"dmm-studio: {e}\n")
            return EXIT_BAD_INPUT
    if shot:
        d = os.path.dirname(os.path.abspath(shot))
        if not os.path.isdir(d):
            sys.stderr.write(f"dmm-studio: cannot write the screenshot {shot}: no such folder {d}\n")
            return EXIT_BAD_INPUT

    from .document import Document
    from .main_window import MainWindow
    from .qt_start import make_application

    app = make_application(sys.argv[:1])  # one line and exit 3 when Qt cannot start
    app.setApplicationName("DMM Studio")
    _apply_style(app)
    doc = Document()
    # the engine in a process of its own (the UI's painting holds the GIL); the
    # screenshot mode (and --engine-thread) serves it in a thread, same messages:
    # no child process to start for one picture
    process = not shot and not getattr(args, "engine_thread", False)
    # a real window remembers its layout, recent files and autosaves (not a screenshot)
    window = MainWindow(doc, engine=engine, process=process, remember=not shot)
    if net is not None:
        window.open_network(net, file)
    _inspect_hook(window, args)
    window.tidy_docks()
    if shot:
        return _screenshot(app, window, shot, steps)
    window.show()
    window.canvas.frame_all()
    if steps:
        window.step(steps)
    code = app.exec()
    return int(code)


def _apply_style(app: Any) -> None:
    from pathlib import Path

    qss = Path(__file__).resolve().parents[2] / "resources" / "style.qss"
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))


PANELS = ("fields_view", "examples_browser")  # gui modules with install(window)


def _inspect_hook(window: Any, args: Any) -> None:
    """Add the other panels (each module's ``install(window)``, when present) and
    hand --probe / --self-view to the inspectors (``inspect.apply_cli``)."""
    import importlib

    for name in PANELS:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ImportError:
            continue
        if hasattr(mod, "install"):
            mod.install(window)
    try:
        from . import inspect as insp  # type: ignore[attr-defined]
    except ImportError:
        return
    if hasattr(insp, "install"):
        insp.install(window)
    if hasattr(insp, "apply_cli"):
        insp.apply_cli(window, args)


def _screenshot(app: Any, window: Any, path: str, steps: int) -> int:
    from PySide6.QtCore import QEventLoop, QTimer

    window.resize(1400, 900)
    window.show()
    app.processEvents()
    window.canvas.frame_all()
    if steps:
        loop = QEventLoop()
        done = {"ok": False}

        def on_frame(frame: Any) -> None:
            if frame.t >= steps:
                done["ok"] = True
                loop.quit()

        window.runner.stepped.connect(on_frame)
        window.runner.halted.connect(lambda _m: loop.quit())
        window.runner.failed.connect(lambda _m: loop.quit())
        QTimer.singleShot(120_000, loop.quit)
        window.step(steps)
        loop.exec()
        app.processEvents()
    window.canvas.frame_all()
    app.processEvents()
    image = window.grab()
    ok = image.save(path)
    window.runner.shutdown()
    window.close()
    if not ok:
        sys.stderr.write(f"dmm-studio: cannot write the screenshot {path}\n")
        return EXIT_BAD_INPUT
    return 0
