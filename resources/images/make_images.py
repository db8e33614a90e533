"""Make the sample images of resources/images/ (run: python resources/images/make_images.py).

Small grey images, each written as .npy (float32 in [0, 1], what the
synth.image neuron reads fastest) and as .png (to look at, and to show that
PNGs load too). Deterministic: running it again gives the same files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def face(n: int = 32) -> np.ndarray:
    y, x = (np.mgrid[0:n, 0:n] + 0.5) / n * 2 - 1
    r = np.hypot(x, y)
    img = np.where(r < 0.9, 0.8, 0.0)
    for ex in (-0.35, 0.35):
        img = np.where(np.hypot(x - ex, y + 0.3) < 0.14, 0.0, img)
    mouth = (np.abs(np.hypot(x, y + 0.1) - 0.5) < 0.08) & (y > 0.15)
    return np.where(mouth, 0.1, img).astype(np.float32)


def spiral(n: int = 48) -> np.ndarray:
    y, x = (np.mgrid[0:n, 0:n] + 0.5) / n * 2 - 1
    r, a = np.hypot(x, y), np.arctan2(y, x)
    return (0.5 + 0.5 * np.sin(3 * a + 12 * r)).astype(np.float32) * (r < 1)


def letter_a(n: int = 32) -> np.ndarray:
    y, x = (np.mgrid[0:n, 0:n] + 0.5) / n
    left = np.abs(x - (0.5 - 0.35 * (y - 0.1) / 0.8)) < 0.07
    right = np.abs(x - (0.5 + 0.35 * (y - 0.1) / 0.8)) < 0.07
    bar = (np.abs(y - 0.62) < 0.05) & (np.abs(x - 0.5) < 0.2)
    inside = (y > 0.1) & (y < 0.9)
    return ((left | right | bar) & inside).astype(np.float32)


IMAGES = {"face": face, "spiral": spiral, "letter_a": letter_a}


def main() -> None:
    from dmm_studio_nodes.synth import write_png  # the library's own PNG writer

    for name, make in IMAGES.items():
        img = make()
        np.save(HERE / f"{name}.npy", img)
        write_png(HERE / f"{name}.png", img)


if __name__ == "__main__":
    main()
