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
EXIT_TIMEOUT = 4  # the screenshot mode's run did not reach --steps in SCREENSHOT_TIMEOUT_S
# seconds; the environment variable DMM_STUDIO_SCREENSHOT_TIMEOUT_S sets another (the tests use it)
SCREENSHOT_TIMEOUT_S = float(os.environ.get("DMM_STUDIO_SCREENSHOT_TIMEOUT_S", "120"))


def launch(args: Any) -> int:
    """Open the studio (``args.command`` None: an empty network; "open": a file).

    With ``--screenshot OUT.png``: offscreen, run ``--steps`` steps, save the
    window to the PNG and return 0. A run that stops early (a break pauses it,
    the network halts or fails) is pictured where it stopped, with one line on
    stderr saying the step and why; one that has not reached ``--steps`` after
    ``SCREENSHOT_TIMEOUT_S`` is pictured too, says so and returns 4. Bad input
    returns 2 with one line on stderr.
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
    from ..recorder.probes import ProbeSpec

    for text in getattr(args, "probe", None) or []:
        try:
            ProbeSpec.parse(text)
        except ValueError as e:  # before Qt starts: one line and exit 2, like a bad --engine
            sys.stderr.write(f"dmm-studio: --probe: {e}\n")
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


PANELS = ("fields_view", "examples_browser", "train_panel", "live_controls")  # gui modules with install(window)


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
    code = 0
    if steps:
        loop = QEventLoop()
        stop: dict[str, Any] = {}  # why the run stopped before --steps

        def on_frame(frame: Any) -> None:
            if frame.t >= steps:
                loop.quit()

        def stopped(why: str, t: int | None = None) -> None:
            if "why" not in stop:
                stop["why"], stop["t"] = why, window.runner.t if t is None else t
            loop.quit()

        window.runner.stepped.connect(on_frame)
        # a break pauses the run: picture it there (what a user wants to see)
        window.runner.breakHit.connect(lambda hit: stopped(f"paused at a break: {hit.message}", hit.t))
        window.runner.halted.connect(lambda m: stopped(f"halted: {m}"))
        window.runner.failed.connect(lambda m: stopped(f"failed: {m}"))
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(
            lambda: stopped(f"timed out after {SCREENSHOT_TIMEOUT_S:g} s before step {steps}")
        )
        timer.start(int(SCREENSHOT_TIMEOUT_S * 1000))
        window.step(steps)
        loop.exec()
        timer.stop()
        app.processEvents()
        if "why" in stop:
            sys.stderr.write(f"dmm-studio: the run stopped at step {stop['t']} of {steps}: {stop['why']}\n")
            if stop["why"].startswith("timed out"):
                code = EXIT_TIMEOUT
                window.runner.pause()
    window.canvas.frame_all()
    app.processEvents()
    image = window.grab()
    ok = image.save(path)
    window.runner.shutdown()
    window.close()
    if not ok:
        sys.stderr.write(f"dmm-studio: cannot write the screenshot {path}\n")
        return EXIT_BAD_INPUT
    return code
