"""The engine host: the one place engines run under the studio (no Qt here).

- ``protocol.py``: the messages (commands and replies), pickled with tensors
  as numpy arrays; the frame's shorthand for an unchanged W.
- ``pace.py``: the steps-per-second limit and the rate measured.
- ``child.py``: ``Host`` and ``serve``, the step loop with the inspectors'
  ``Recorder`` beside the machine; ``python -m dmm_studio.host FD``.
- ``parent.py``: the studio's end, ``HostProcess`` (a child process, the
  default) or ``HostThread`` (a thread of this process, same messages).

The studio's ``Runner`` (``dmm_studio.gui.runner``) wraps the parent's end in
Qt signals. The names of ``child.py`` load on first use, so that the
studio's process does not import the machine (and torch) to talk to a host.
"""

from __future__ import annotations

from typing import Any

from .pace import Pace
from .parent import HostEnd, HostProcess, HostThread
from .protocol import SAME_MATRIX, dumps, loads, unpack_frame, with_matrix

_CHILD = ("EDITS", "Host", "describe", "limit_torch_threads", "main", "serve", "serve_connection")

__all__ = [
    "SAME_MATRIX",
    "HostEnd",
    "HostProcess",
    "HostThread",
    "Pace",
    "dumps",
    "loads",
    "unpack_frame",
    "with_matrix",
    *_CHILD,
]


def __getattr__(name: str) -> Any:
    if name in _CHILD:
        from . import child

        return getattr(child, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
