"""The messages between the studio and its engine host, and how they travel.

This module holds the protocol (no Qt, no machine): ``dumps``/``loads`` (a
message pickled with tensors as numpy arrays), and the frame's shorthand for
an unchanged W (``SAME_MATRIX``, ``unpack_frame``). The host serves it
(``child.py``); the studio's end starts the host and reads it
(``parent.py``), over a socket pair either way: to a child process (the
default) or to a thread of the same process.

The studio sends ``(command, *args)`` tuples (the ``Host.do_*`` methods:
``load``, ``reset``, ``step``, ``run``, ``pause``, ``limit``, ``edit``,
``snapshot``, ``record``, ``probes``, ``breaks``, ``profiling``,
``capacity``, ``quit``; training: ``train``, ``train_pause``,
``train_resume``, ``train_stop``); the host sends ``(kind, payload)`` messages:

``("frame", dict)``
    ``t``, ``state`` (``y_t``), ``active``, ``stats``, ``steps`` (since the
    previous frame) and ``record`` (``Recorder.packet()``: what was recorded
    since the previous frame, or None when not recording). At most
    ``max_fps`` a second while running; after every command otherwise.
``("running", bool)``, ``("halted", str)``, ``("failed", str)``
``("broke", BreakHit)``
    A break fired: the run paused right after that step.
``("sync", dict)``
    The whole record (``Recorder.export()``), sent whenever the run stops,
    so that a paused studio can scrub every kept step.
``("train", (event, payload))``
    Training's reports (``training.py`` lists the events).
``("reply", (token, result, error))``
    The answer to ``("snapshot", token)``.

Messages are pickled with tensors as numpy arrays (``dumps``): torch's own
pickling took ~1 ms for a state of six 32 x 32 images, this ~70 us. Tensors
arrive on the CPU.
"""

from __future__ import annotations

import io
import pickle
import sys
from typing import Any

from ..matrix import MATRIX_OUTPUT, SELF_NAME, SELF_TYPE, matrix_of
from ..vvalue import pack_deep


def _tensor_from_numpy(a: Any) -> Any:
    import torch

    return torch.from_numpy(a)


def _reduce_tensor(t: Any) -> Any:
    x = t.detach()
    if x.device.type != "cpu":
        x = x.cpu()
    try:
        return _tensor_from_numpy, (x.numpy(),)
    except (TypeError, RuntimeError):  # a dtype numpy lacks (bfloat16): torch's own way
        return x.__reduce_ex__(pickle.HIGHEST_PROTOCOL)


_TABLE: dict[Any, Any] | None = None


def dumps(obj: Any) -> bytes:
    """Pickle a message (tensors as numpy arrays, on the CPU). A process that
    has not imported torch holds no tensors: it pickles without importing it."""
    global _TABLE
    table = _TABLE
    if table is None:
        # (torch may be half imported, by the engine host's thread: no tensor exists yet)
        tensor = getattr(sys.modules.get("torch"), "Tensor", None)
        if tensor is None:
            try:
                return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
            except RecursionError:
                return pickle.dumps(pack_deep(obj), protocol=pickle.HIGHEST_PROTOCOL)
        import copyreg

        table = _TABLE = {**copyreg.dispatch_table, tensor: _reduce_tensor}
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    p.dispatch_table = table
    try:
        p.dump(obj)
    except RecursionError:  # a value nested deeper than pickle goes (a long list)
        buf = io.BytesIO()
        p = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
        p.dispatch_table = table
        p.dump(pack_deep(obj))
    return buf.getvalue()


loads = pickle.loads


class _SameMatrix:
    """Stands for "W as in the previous frame" (pickled by name: one object)."""

    def __reduce__(self) -> str:
        return "SAME_MATRIX"

    def __repr__(self) -> str:
        return "SAME_MATRIX"


SAME_MATRIX = _SameMatrix()


def with_matrix(state: Any, w: Any) -> Any:
    """``state`` with Self's matrix replaced (the levels above it copied)."""
    selfs = dict(state[SELF_TYPE])
    outs = dict(selfs[SELF_NAME])
    outs[MATRIX_OUTPUT] = w
    selfs[SELF_NAME] = outs
    return {**state, SELF_TYPE: selfs}


def unpack_frame(frame: dict[str, Any], last_matrix: Any) -> Any:
    """Undo the frame's shorthand in place: ``SAME_MATRIX`` becomes the matrix of
    the frame before (``last_matrix``); returns this frame's matrix."""
    state = frame["state"]
    w = matrix_of(state)
    if w is SAME_MATRIX:
        w = last_matrix
        frame["state"] = state = with_matrix(state, w)
    record = frame.get("record")
    if record is not None and record.get("prev_matrix") is SAME_MATRIX:
        record["prev_matrix"] = w
    return w
