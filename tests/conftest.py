"""Shared test setup: Qt always offscreen, paths to the project's folders."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The studio keeps its layout and recent files (QSettings) and autosaves
# (platformdirs' state folder): the tests, and the studios they start, do so in
# a folder of their own, never in the user's home
_HOME = tempfile.mkdtemp(prefix="dmm-tests-home-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")
os.environ["XDG_STATE_HOME"] = os.path.join(_HOME, "state")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
