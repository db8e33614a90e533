"""Starting Qt: one clear line when the platform plugin cannot start.

Without a display, or on a minimal Linux that lacks the X libraries Qt's
``xcb`` plugin needs, Qt ends the process in ``QApplication()`` with a few
lines that name no fix. ``make_application(argv)`` catches that (a Qt message
handler, in place while the application starts), writes one line that says
what is missing and what to install, and exits with ``EXIT_NO_DISPLAY``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

EXIT_NO_DISPLAY = 3

# what a minimal Debian/Ubuntu lacks for a real window (shared/STACK.md; README)
XCB_PACKAGES = "libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0"


def no_platform_line(platform: str, messages: list[str]) -> str:
    """The one line said when Qt cannot start ``platform`` (``messages``: what Qt said)."""
    said = " ".join(messages).lower()
    if "could not connect to display" in said or (
        platform == "xcb" and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
    ):
        why = "no display (DISPLAY is not set or cannot be reached)"
    else:
        why = "its system libraries are missing"
    return (
        f"dmm-studio: Qt cannot start its {platform!r} platform plugin: {why}. "
        f"A window needs a display and, on a minimal Linux, apt-get install {XCB_PACKAGES} "
        "(see README); 'dmm-studio open FILE --screenshot OUT.png' needs neither."
    )


def make_application(argv: list[str]) -> Any:
    """``QApplication(argv)`` (or the one that exists), or one line on stderr and
    exit ``EXIT_NO_DISPLAY`` when Qt cannot start its platform plugin."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    said: list[str] = []

    def handler(mode: Any, _context: Any, message: str) -> None:
        if mode == QtMsgType.QtFatalMsg:
            platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] or _default_platform()
            sys.stderr.write(no_platform_line(platform, said + [message]) + "\n")
            sys.stderr.flush()
            os._exit(EXIT_NO_DISPLAY)
        said.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        app = QApplication(argv)
    finally:
        qInstallMessageHandler(previous)
    for message in said:  # a start that worked: what Qt said, as it would have said it
        if "propagateSizeHints" not in message:
            sys.stderr.write(message + "\n")
    return app


def _default_platform() -> str:
    if sys.platform.startswith("linux"):
        return "wayland" if os.environ.get("WAYLAND_DISPLAY") else "xcb"
    return {"darwin": "cocoa", "win32": "windows"}.get(sys.platform, "default")
