"""Write the learning examples (docs/learning.md): ``python examples/make_learning.py``.

* ``duplicates_learn.dmm.json``: a non-specific starting network in the
  spirit of the 2022 anchor (several copies of the building blocks:
  registers, accumulators, max-norm, comparators, dot products, gates; every
  input reads every output, ~1,500 small random weights);
  ``duplicates_learn.train.json``: the task, its episodes made by running
  the handcrafted detector ``duplicates.dmm.json`` on random strings (its
  reader's token is fed to ``identity/input``, its gate's output one step
  later is the target of ``identity/out``, which reads the blocks); ``duplicates_learn.test.json``: the same on
  four fresh 140-step strings (the anchor's test length), for measuring.
* ``field_learn.dmm.json`` / ``field_learn.train.json``: a population of
  sin(a*x + b) unit generators on a ring, a plane-wave field on their
  outputs (the image); the target is the population's image under a different
  (hidden) field, the task trains the field's numbers and the units' params;
  ``field_learn_nofield.*``: the same without the field (params only).
"""

from __future__ import annotations

import json
import math
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from dmm_studio.fileformat import load_network  # noqa: E402
from dmm_studio.network import Network  # noqa: E402

ALPHABET = "abcdefgh"
TRAIN_EPISODES, TRAIN_LENGTH = 16, 40
TEST_EPISODES, TEST_LENGTH = 4, 140
# the building blocks of the starting network: type -> (copies, inputs, outputs)
BLOCKS = {
    "identity": (6, ["single"], ["single"]),
    "accum": (5, ["accum", "delta"], ["single"]),
    "max_norm": (3, ["in"], ["norm"]),
    "less_or_equal": (3, ["left", "right"], ["true", "false"]),
    "arith.dot": (5, ["left", "right"], ["out"]),
    "arith.gate": (5, ["in", "gate"], ["out"]),
}
INIT_SCALE = 0.1


def random_text(rng: random.Random, n: int, repeat: float = 0.3) -> str:
    """A string over ALPHABET where a character repeats the one before with
    probability ``repeat``."""
    out = [rng.choice(ALPHABET)]
    while len(out) < n:
        out.append(out[-1] if rng.random() < repeat else rng.choice(ALPHABET))
    return "".join(out)


def detector_streams(text: str) -> tuple[list, list]:
    """Run the handcrafted detector on ``text``: the reader's token and the
    gate's output, one value per step (``len(text)`` steps)."""
    net = load_network(HERE / "duplicates.dmm.json")
    net.set_param("data.text_reader", "reader", "text", text)
    m = net.machine(engine="reference")
    tokens, outs = [], []
    for _ in range(len(text)):
        m.step()
        tokens.append(m.output("data.text_reader", "reader", "token") or None)
        outs.append(m.output("arith.gate", "pass", "out") or {})
    return tokens, outs


def duplicates_task(seed: int, episodes: int, length: int, steps: int) -> dict:
    rng = random.Random(seed)
    eps = []
    for k in range(episodes):
        text = random_text(rng, length)
        tokens, outs = detector_streams(text)
        # identity/out reads the blocks: one step later than the detector's gate
        eps.append(
            {
                "name": text,
                "inputs": {"identity/input/single": tokens},
                "targets": {"identity/out/single": [None, *outs[:-1]]},
            }
        )
    return {
        "format": "dmm-studio-train/1",
        "meta": {
            "title": "Synthesise the duplicate-character detector",
            "description": "Episodes made by running examples/duplicates.dmm.json on random strings over "
            f"{ALPHABET!r}: the reader's one-hot token is fed to identity/input, the gate's output "
            "(the repeated character, two steps after the repeat) is the target of identity/out one "
            "step later (identity/out reads the blocks: one step more than the detector's gate).",
        },
        "episodes": eps,
        "loss": "mse",
        "regularization": {"l1": 1e-4},
        "optimizer": {"name": "Adam", "lr": 0.01},
        "steps": steps,
        "clip": 1.0,
        "seed": seed,
        "trainable": {"weights": "all"},
        "less_or_equal": {"surrogate": "straight_through", "temperature": 0.1},
        "prune": {"threshold": 0.01, "every": 50, "start": 200},
    }


def start_network(seed: int = 0) -> Network:
    """Every input of every block reads every output (and the input and a
    constant 1), with small random weights."""
    rng = random.Random(seed)
    net = Network.empty()
    net.meta = {
        "title": "Non-specific start for the duplicate-character detector",
        "description": "Copies of registers, accumulators, max-norm, comparators, dot products and gates, "
        "every input wired to every output with a small random weight. "
        "examples/duplicates_learn.train.json trains it to behave like examples/duplicates.dmm.json.",
        "views": ["train"],  # it opens with the Train dock in front
    }
    neurons = [(f, f"{f.split('.')[-1]}{k}") for f, (n, _, _) in BLOCKS.items() for k in range(n)]
    ins = [(f, n, i) for f, n in neurons for i in BLOCKS[f][1]] + [("identity", "out", "single")]
    outs = [(f, n, o) for f, n in neurons for o in BLOCKS[f][2]]
    outs += [("identity", "input", "single"), ("identity", "out", "single"), ("time.constant", "one", "out")]
    changes = [(to, frm, round(rng.gauss(0, INIT_SCALE), 4) or 0.001) for to in ins for frm in outs]
    net.set_weights(changes)
    cols = {f: i for i, f in enumerate(BLOCKS)}
    for f, n in neurons:
        k = int("".join(c for c in n if c.isdigit()))
        net.set_pos(f, n, (-300 + 220 * cols[f], -250 + 110 * k))
    net.set_pos("identity", "input", (-550, 0))
    net.set_pos("time.constant", "one", (-550, 200))
    net.set_pos("identity", "out", (1100, 0))
    net.set_pos("self", "self", (-550, -300))
    return net


# ------------------------------------------------------------ fields that learn
UNITS = 12
RING = 400
FIELD_T = 60


def population(with_field: bool, field: dict | None = None) -> Network:
    """UNITS sin units on a ring reading a clock; each unit's output is its
    own identity neuron's input (the image)."""
    net = Network.empty()
    net.set_weight(("time.clock", "clock", "tick"), ("time.clock", "clock", "t"), 1.0)
    net.set_pos("time.clock", "clock", (0, 0))
    for i in range(UNITS):
        u = f"u{i:02d}"
        net.set_weight(("synth.sin", u, "x"), ("time.clock", "clock", "t"), 1.0)
        net.set_weight(("identity", f"p{i:02d}", "single"), ("synth.sin", u, "y"), 1.0)
        net.set_param("synth.sin", u, "a", 0.3)
        net.set_param("synth.sin", u, "b", 0.0)
        ang = 2 * math.pi * i / UNITS
        net.set_pos("synth.sin", u, (RING * math.cos(ang), RING * math.sin(ang)))
        net.set_pos("identity", f"p{i:02d}", (1.4 * RING * math.cos(ang), 1.4 * RING * math.sin(ang)))
    net.set_pos("self", "self", (-600, -600))
    if with_field:
        net.fields = [
            field
            or {
                "name": "wave",
                "source": {"kind": "plane", "direction": [1, 0], "wavelength": 900, "speed": 6},
                "strength": 0.2,
                "targets": ["outputs"],
                "covers": {"types": ["synth.sin"]},
            }
        ]
    net.meta = {
        "title": "Fields that learn: a population of unit generators"
        + ("" if with_field else " (no field)"),
        "description": f"{UNITS} units y = sin(a*t + b) on a ring; identity/pNN holds unit NN's output "
        "(the population's image, one value per unit). "
        + ("A plane wave modulates each unit's output by where it sits; training moves the wave. "
           if with_field else "No field: training can only change each unit's own a and b."),
        "views": ["train"] + (["fields"] if with_field else []),
    }
    return net


HIDDEN = {
    "name": "wave",
    "source": {"kind": "plane", "direction": [1, 0.3], "wavelength": 700, "speed": 9, "phase": 0.4},
    "strength": 0.6,
    "targets": ["outputs"],
    "covers": {"types": ["synth.sin"]},
}


def field_task(with_field: bool, steps: int = 150) -> dict:
    teacher = population(True, HIDDEN)
    m = teacher.machine(engine="reference")
    streams: dict[str, list] = {f"identity/p{i:02d}/single": [] for i in range(UNITS)}
    for _ in range(FIELD_T):
        m.step()
        for i in range(UNITS):
            v = m.output("identity", f"p{i:02d}", "single")
            streams[f"identity/p{i:02d}/single"].append(v.get(":number", 0.0) if v else 0.0)
    trainable: dict = {"weights": "none", "params": [{"type": "synth.sin", "names": ["a", "b"]}]}
    if with_field:
        trainable["fields"] = [
            {
                "field": "wave",
                "keys": ["strength", "source.wavelength", "source.speed", "source.phase", "source.direction"],
            }
        ]
    return {
        "format": "dmm-studio-train/1",
        "meta": {
            "title": "Match a population's image " + ("with a trainable field" if with_field else "without a field"),
            "description": "The target is the image of the same population under a hidden plane wave "
            "(strength 0.6, wavelength 700, speed 9) for 60 steps.",
        },
        "episodes": [{"targets": streams}],
        "loss": "mse",
        "optimizer": {"name": "Adam", "lr": 0.03},
        "steps": steps,
        "seed": 0,
        "trainable": trainable,
    }


def write(name: str, data: dict) -> None:
    (HERE / name).write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote examples/{name}")


def main() -> None:
    start_network().save(HERE / "duplicates_learn.dmm.json")
    print("wrote examples/duplicates_learn.dmm.json")
    write("duplicates_learn.train.json", duplicates_task(1, TRAIN_EPISODES, TRAIN_LENGTH, 600))
    write("duplicates_learn.test.json", duplicates_task(2, TEST_EPISODES, TEST_LENGTH, 1))
    population(True).save(HERE / "field_learn.dmm.json")
    population(False).save(HERE / "field_learn_nofield.dmm.json")
    print("wrote examples/field_learn.dmm.json, field_learn_nofield.dmm.json")
    write("field_learn.train.json", field_task(True))
    write("field_learn_nofield.train.json", field_task(False))


if __name__ == "__main__":
    main()
