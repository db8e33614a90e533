"""How a probe's numbers become pixels: one function for the live views and
the exports (no Qt here, numpy only).

The rule (README, "The studio"): an image is scaled by its finite range, its
smallest finite value black (0) and its largest white (255); +Inf is white,
-Inf and NaN are black; an image with no finite value, or a constant one, is
black (and +Inf white). An empty array (a shape with a 0) stays empty.
"""

from __future__ import annotations

import math

import numpy as np


def finite_range(a: np.ndarray) -> tuple[float, float]:
    """``(lo, hi)``: the smallest and largest finite values of ``a``; ``(0.0, 1.0)``
    when it has none (empty, or all NaN/Inf)."""
    if a.size == 0:
        return 0.0, 1.0
    lo, hi = float(a.min()), float(a.max())
    if math.isfinite(lo) and math.isfinite(hi):
        return lo, hi
    finite = a[np.isfinite(a)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def to_uint8(a: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``a`` as uint8 pixels by the rule above (same shape, C-contiguous), and
    the finite range ``(lo, hi)`` it was scaled by."""
    a = np.asarray(a)
    if a.size == 0:
        return np.zeros(a.shape, dtype=np.uint8), 0.0, 1.0
    lo, hi = finite_range(a)
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        out = (a - lo) * scale
    if not np.isfinite(out).all():
        out = np.where(np.isposinf(a), 255.0, np.nan_to_num(out, nan=0.0, posinf=255.0, neginf=0.0))
    return np.ascontiguousarray(out.clip(0, 255).astype(np.uint8)), lo, hi


def image_array(a: np.ndarray, rgb: bool = True) -> np.ndarray:
    """The 2-D array (or H x W x 3/4 colour image, when ``rgb``) that the image
    views draw for an array: a scalar as 1 x 1, 1-D as one row, N-D as its
    first axis by the rest."""
    if rgb and a.ndim == 3 and a.shape[-1] in (3, 4):
        return a
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return a if a.ndim == 2 else a.reshape(a.shape[0], -1)


def display_levels(a: np.ndarray) -> tuple[float, float]:
    """Levels for a pyqtgraph image of ``a``: its finite range, never empty."""
    lo, hi = finite_range(a)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)
