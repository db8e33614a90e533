"""Make the README's gallery with the studio's screenshot mode.

    python docs/make_gallery.py

Each example is opened offscreen as a user opens it, with nothing added: the
probes and docks it opens with are those its file keeps (its probes in the
layout, ``meta["views"]``; see ``examples/make_examples.py``). It is run for
the steps below and saved to docs/screenshots/<example>.png.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# steps to run before the picture (enough for the example's story to show)
SHOTS: dict[str, int] = {
    "counter": 12,
    "waves": 5,
    "duplicates": 40,
    "word_count": 60,
    "fuzzy_if": 60,
    "live_edit": 80,
    "reflection": 60,
    "softmax_images": 30,
    "sin_synthesis": 30,
    "field_population": 60,
    "lightweight_pure": 60,
    "live_play": 30,
}


def main() -> int:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name, steps in SHOTS.items():
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
        ]
        r = subprocess.run(cmd, capture_output=True, text=True)
        print(f"{name}: {'ok' if r.returncode == 0 else 'FAILED ' + r.stderr.strip()}")
        failed += r.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
