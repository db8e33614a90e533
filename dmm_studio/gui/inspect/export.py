"""Export: a probe's history to CSV or NPY, an image probe's frames to GIF or
MP4 (imageio; MP4 through imageio-ffmpeg's ffmpeg), a probe's picture to PNG
(``QWidget.grab`` of its view, without the probe's buttons). Frames are scaled as the
live view scales them, by the same function (``scaling.to_uint8``)."""

from __future__ import annotations

import csv
import os
from typing import Any

import numpy as np

from ...recorder import ProbeBuffer, is_scalar_stream
from ...vvalue import is_tensor, leaves
from .brief import path_text
from .scaling import image_array, to_uint8
from .views import tensor_leaf, to_numpy


def export_csv(buf: ProbeBuffer, path: str | os.PathLike[str]) -> int:
    """Rows ``t, value`` for a scalar probe; ``t`` and one column per coordinate
    (path) for a V-value probe (tensor leaves as their mean). Returns the row count."""
    values = buf.values()
    scalar = all(is_scalar_stream(v) for _, v in values)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if scalar:
            t, y = buf.scalars()
            w.writerow(["t", buf.spec.key])
            for ti, yi in zip(t.tolist(), y.tolist(), strict=True):
                w.writerow([ti, repr(yi)])
            return len(t)
        cols: dict[str, None] = {}
        rows = []
        for t, v in values:
            row: dict[str, Any] = {}
            for p, x in leaves(v) if isinstance(v, dict) else []:
                key = path_text(p)
                cols[key] = None
                row[key] = float(x.detach().float().mean()) if is_tensor(x) else x
            rows.append((t, row))
        names = list(cols)
        w.writerow(["t", *names])
        for t, row in rows:
            w.writerow([t, *(repr(row.get(c, 0)) for c in names)])
        return len(rows)


def export_npy(buf: ProbeBuffer, path: str | os.PathLike[str]) -> tuple[int, ...]:
    """Tensor probes: the kept frames stacked, (n, ...) (steps without a tensor,
    or with another shape than the last, are left out); other probes: an
    (n, 2) array of (t, value). Returns the shape written."""
    tensors = [t for t in (tensor_leaf(v) for _, v in buf.values()) if t is not None]
    if tensors:
        shape = tuple(tensors[-1].shape)
        a = np.stack([to_numpy(t) for t in tensors if tuple(t.shape) == shape])
    else:
        t, y = buf.scalars()
        a = np.stack([t.astype(np.float64), y], axis=1) if len(t) else np.zeros((0, 2))
    np.save(path, a)
    return tuple(a.shape)


def frames_uint8(buf: ProbeBuffer) -> list[np.ndarray]:
    """An image probe's frames as uint8 images, each as the live view draws it
    (``scaling.to_uint8``: its finite range; +Inf white, -Inf and NaN black).
    Empty frames (a shape with a 0) are left out."""
    arrays = [to_numpy(t) for t in (tensor_leaf(v) for _, v in buf.values()) if t is not None]
    arrays = [image_array(a) for a in arrays if a.size]
    if not arrays:
        raise ValueError(f"probe {buf.spec.key} has no image frames")
    out = []
    for a in arrays:
        img = to_uint8(a)[0]
        if img.ndim == 3 and img.shape[-1] == 4:
            img = img[..., :3]
        out.append(img)
    return out


class ExportError(ValueError):
    """An export that cannot be made here, said in one line (what to do)."""


FFMPEG_MISSING = (
    "MP4 export needs the ffmpeg of the imageio-ffmpeg package, which is not installed here: "
    "pip install imageio-ffmpeg (or export a GIF)"
)


def ffmpeg_exe() -> str:
    """The ffmpeg that MP4 export runs: imageio-ffmpeg's own binary (a dependency
    of the studio), else one on PATH. Raises ``ExportError`` (one line) when neither is there."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ExportError(FFMPEG_MISSING) from None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:  # the package without its binary, and none on PATH
        raise ExportError(FFMPEG_MISSING) from None


def export_movie(buf: ProbeBuffer, path: str | os.PathLike[str], fps: float = 10.0) -> int:
    """An image probe's frames to a GIF or MP4 (by the file's suffix); returns the
    frame count. Raises ``ValueError`` for a probe without image frames or
    another suffix, ``ExportError`` (a ``ValueError``, one line) when MP4's ffmpeg is missing."""
    import imageio.v2 as imageio

    frames = frames_uint8(buf)
    suffix = os.fspath(path).lower().rsplit(".", 1)[-1]
    if suffix == "gif":
        imageio.mimsave(path, frames, duration=1.0 / fps, loop=0)
    elif suffix == "mp4":
        ffmpeg_exe()  # before any work: one clear line when it is missing
        # yuv420p needs even sides: pad by edge repetition
        h, w = frames[0].shape[:2]
        ph, pw = h % 2, w % 2
        if ph or pw:
            pad = ((0, ph), (0, pw)) + (((0, 0),) if frames[0].ndim == 3 else ())
            frames = [np.pad(f, pad, mode="edge") for f in frames]
        imageio.mimsave(path, frames, fps=fps, macro_block_size=1)
    else:
        raise ValueError(f"a movie is .gif or .mp4, not {path}")
    return len(frames)


def export_png(widget: Any, path: str | os.PathLike[str]) -> bool:
    """A view to PNG, as it is drawn: a probe widget's picture (its
    ``current_view()``: the plot, image or bars), not its header of buttons."""
    view = widget.current_view() if hasattr(widget, "current_view") else widget
    if view is None:
        view = widget
    return bool(view.grab().save(os.fspath(path), "PNG"))
