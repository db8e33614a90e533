"""Make the README's gallery with the studio's screenshot mode.

    python docs/make_gallery.py

Each example is opened offscreen, run for some steps, with the probes that
show what it does, and saved to docs/screenshots/<example>.png.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SHOTS: dict[str, tuple[int, list[str]]] = {
    "counter": (12, ["--probe", "accum/count/single"]),
    "waves": (5, ["--self-view"]),
    "duplicates": (40, ["--probe", "arith.dot/detector/out", "--probe", "data.cons/repeats/length"]),
    "word_count": (60, ["--probe", "data.word_count/counts/counts"]),
    "fuzzy_if": (60, ["--probe", "identity/result/single", "--probe", "synth.sin/cond/y"]),
    "live_edit": (80, ["--probe", "accum/count/single", "--self-view"]),
    "reflection": (40, ["--probe", "matrix.summary/mirror/size", "--self-view"]),
    "softmax_images": (30, ["--probe", "synth.softmax_matmul/product/out", "--probe", "synth.blend/mix/out"]),
    "sin_synthesis": (30, ["--probe", "synth.blend/frame/out"]),
    "field_population": (60, ["--probe", "synth.sin/u00/y", "--probe", "synth.sin/u06/y"]),
    "lightweight_pure": (60, ["--probe", "synth.normalize/M/out", "--self-view"]),
}


def main() -> int:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name, (steps, extra) in SHOTS.items():
        cmd = [
            sys.executable,
            "-m",
            "dmm_studio.cli",
            "open",
            str(ROOT / "examples" / f"{name}.dmm.json"),
            "--steps",
            str(steps),
            "--screenshot",
            str(out / f"{name}.png"),
            *extra,
        ]
        r = subprocess.run(cmd, capture_output=True, text=True)
        print(f"{name}: {'ok' if r.returncode == 0 else 'FAILED ' + r.stderr.strip()}")
        failed += r.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
