"""Write the library's example networks (run: python examples/make_examples.py).

Each example is built with the ``Network`` API, the same edits the studio
makes, and saved as ``examples/NAME.dmm.json`` with a title, a description
and a layout. counter.dmm.json and waves.dmm.json are written by hand and
are not touched here. tests/examples/test_examples.py checks what each
description claims.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import torch

from dmm_studio.network import Network

HERE = Path(__file__).resolve().parent

DUPLICATES_TEXT = "a bookkeeper sees three little geese."
WORDS_TEXT = (
    "The cat sat on the mat. The dog sat on the log. A cat and a dog: the cat, the dog, the mat and the log."
)

WORD_COUNTS = Counter(w.strip(".,:;!?").lower() for w in WORDS_TEXT.split())


def wire(net: Network, to: str, frm: str, w: float = 1.0) -> None:
    """``to`` and ``frm`` are 'type/name/port'."""
    t, f = tuple(to.split("/")), tuple(frm.split("/"))
    net.set_weight(t, f, w + net.weight(t, f))  # type: ignore[arg-type]


def at(net: Network, key: str, x: float, y: float) -> None:
    f, n = key.split("/")
    net.set_pos(f, n, (x, y))


def clock(net: Network, name: str = "clock") -> str:
    wire(net, f"time.clock/{name}/tick", f"time.clock/{name}/t")
    return f"time.clock/{name}/t"


def new(title: str, description: str) -> Network:
    net = Network.empty()
    net.meta = {"title": title, "description": description}
    return net


# ------------------------------------------------------------------ examples


def duplicates() -> Network:
    net = new(
        "Duplicate-character detector",
        "A text reader feeds the characters of a sentence one per step; identity/previous holds the "
        "character before. arith.dot/detector is the dot product of the two one-hot vectors: it fires "
        "(out = 1) exactly when a character repeats the one before it ('oo', 'kk', 'ee', 'tt' in "
        f"{DUPLICATES_TEXT!r}). A gate lets the repeated character through while the detector fires, "
        "and data.cons/repeats conses each one onto a list, newest first.",
    )
    t = clock(net)
    wire(net, "data.text_reader/reader/t", t)
    net.set_param("data.text_reader", "reader", "text", DUPLICATES_TEXT)
    wire(net, "identity/previous/single", "data.text_reader/reader/token")
    wire(net, "arith.dot/detector/left", "data.text_reader/reader/token")
    wire(net, "arith.dot/detector/right", "identity/previous/single")
    wire(net, "identity/delayed/single", "identity/previous/single")
    wire(net, "arith.gate/pass/in", "identity/delayed/single")
    wire(net, "arith.gate/pass/gate", "arith.dot/detector/out")
    wire(net, "data.cons/repeats/item", "arith.gate/pass/out")
    wire(net, "data.cons/repeats/list", "data.cons/repeats/list")
    for key, x, y in [
        ("self/self", 0, -250),
        ("time.clock/clock", -500, 0),
        ("data.text_reader/reader", -300, 0),
        ("identity/previous", -100, 120),
        ("arith.dot/detector", 100, 0),
        ("identity/delayed", 100, 200),
        ("arith.gate/pass", 300, 100),
        ("data.cons/repeats", 500, 100),
    ]:
        at(net, key, x, y)
    return net


def word_count() -> Network:
    net = new(
        "Word counting into a sparse vector",
        "A text reader in words mode emits one word per step as the one-hot vector {word: 1}; "
        "data.word_count/counts lowercases it, strips punctuation, and adds it to its own output, "
        "so counts is the sparse vector of word counts of the text read so far "
        f"(after the whole text counts.the is {WORD_COUNTS['the']}), and total is the number of words read.",
    )
    t = clock(net)
    wire(net, "data.text_reader/reader/t", t)
    net.set_param("data.text_reader", "reader", "text", WORDS_TEXT)
    net.set_param("data.text_reader", "reader", "mode", "words")
    wire(net, "data.word_count/counts/words", "data.text_reader/reader/token")
    wire(net, "data.word_count/counts/counts", "data.word_count/counts/counts")
    for key, x, y in [
        ("self/self", 0, -250),
        ("time.clock/clock", -400, 0),
        ("data.text_reader/reader", -150, 0),
        ("data.word_count/counts", 150, 0),
    ]:
        at(net, key, x, y)
    return net


FUZZY_PERIOD = 40


def fuzzy_if() -> Network:
    net = new(
        "Fuzzy if: gating two streams",
        "A slow oscillator gives a condition s = 0.5 + 0.5 sin(2 pi t / 40) in [0, 1]. Two gates compute "
        "if s then A else B as s*A + (1 - s)*B: arith.gate/then multiplies the stream A = {apple: 1} by s, "
        "arith.gate/else multiplies B = {banana: 1} by 1 - s (bias 1, gate -s). identity/result holds the "
        "blend: apple + banana is always 1, and the network swings smoothly from all apple to all banana "
        "and back every 40 steps.",
    )
    t = clock(net)
    wire(net, "synth.sin/cond/x", t)
    net.set_param("synth.sin", "cond", "a", 2 * math.pi / FUZZY_PERIOD)
    net.set_param("time.constant", "A", "value", {"apple": 1})
    net.set_param("time.constant", "B", "value", {"banana": 1})
    net.set_param("time.constant", "one", "value", 1)
    wire(net, "arith.gate/then/in", "time.constant/A/out")
    wire(net, "arith.gate/then/gate", "synth.sin/cond/y", 0.5)
    wire(net, "arith.gate/then/gate", "time.constant/one/out", 0.5)
    wire(net, "arith.gate/else/in", "time.constant/B/out")
    wire(net, "arith.gate/else/gate", "synth.sin/cond/y", -0.5)
    wire(net, "arith.gate/else/gate", "time.constant/one/out", -0.5)
    net.set_param("arith.gate", "else", "bias", 1.0)
    wire(net, "identity/result/single", "arith.gate/then/out")
    wire(net, "identity/result/single", "arith.gate/else/out")
    for key, x, y in [
        ("self/self", 0, -300),
        ("time.clock/clock", -500, 0),
        ("synth.sin/cond", -300, 0),
        ("time.constant/one", -300, 180),
        ("time.constant/A", -100, -150),
        ("time.constant/B", -100, 250),
        ("arith.gate/then", 100, -80),
        ("arith.gate/else", 100, 120),
        ("identity/result", 320, 20),
    ]:
        at(net, key, x, y)
    return net


LIVE_EDIT_AT = (30, 60)


def live_edit() -> Network:
    net = new(
        "Live editing through Self",
        "A counter adds 1 each step. At t = 30, matrix.patch/faster adds a fragment of matrix through "
        "Self's delta: the counter's delta wire gets weight 2, and it counts by 2 from then on. At t = 60, "
        "matrix.patch/grow adds wires for a new neuron, accum/total, which sums the counter: the network "
        "changes its own topology while it runs.",
    )
    t = clock(net)
    wire(net, "accum/count/accum", "accum/count/single")
    wire(net, "accum/count/delta", "identity/one/single")
    wire(net, "identity/one/single", "identity/one/single")
    net.set_output("identity", "one", "single", 1)
    faster = {"accum": {"count": {"delta": {"identity": {"one": {"single": 1}}}}}}
    grow = {
        "accum": {
            "total": {
                "accum": {"accum": {"total": {"single": 1}}},
                "delta": {"accum": {"count": {"single": 1}}},
            }
        }
    }
    for name, fragment, when in (("faster", faster, LIVE_EDIT_AT[0]), ("grow", grow, LIVE_EDIT_AT[1])):
        wire(net, f"matrix.patch/{name}/t", t)
        net.set_param("matrix.patch", name, "fragment", fragment)
        net.set_param("matrix.patch", name, "at", when)
        wire(net, "self/self/delta", f"matrix.patch/{name}/delta")
    for key, x, y in [
        ("self/self", 0, -250),
        ("time.clock/clock", -500, -250),
        ("matrix.patch/faster", -250, -350),
        ("matrix.patch/grow", -250, -150),
        ("identity/one", -300, 50),
        ("accum/count", 0, 50),
        ("accum/total", 300, 50),
    ]:
        at(net, key, x, y)
    return net


REFLECT_LIMIT = 4
REFLECT_PERIOD = 10


def reflection() -> Network:
    net = new(
        "Reflection: a network that reads its own matrix",
        "matrix.summary/mirror reads Self's network matrix every step and reports its size, its number "
        "of active neurons, its largest weight, and one row (the counter's delta row). Every 10 steps "
        "matrix.patch/grow tries to add 1 to the counter's delta weight, but the edit goes through "
        "arith.gate/guard, which only opens while the largest weight the mirror sees is at most 4 "
        "(less_or_equal/check). The network watches its own matrix and stops growing it: the weight "
        "climbs 1, 2, 3, 4, 5 and stays at 5.",
    )
    t = clock(net)
    wire(net, "accum/count/accum", "accum/count/single")
    wire(net, "accum/count/delta", "identity/one/single")
    wire(net, "identity/one/single", "identity/one/single")
    net.set_output("identity", "one", "single", 1)
    wire(net, "matrix.summary/mirror/matrix", "self/self/network_matrix")
    net.set_param("matrix.summary", "mirror", "row", "accum/count/delta")
    wire(net, "less_or_equal/check/left", "matrix.summary/mirror/max_norm")
    wire(net, "less_or_equal/check/right", "time.constant/limit/out")
    net.set_param("time.constant", "limit", "value", REFLECT_LIMIT)
    wire(net, "matrix.patch/grow/t", t)
    net.set_param(
        "matrix.patch",
        "grow",
        "fragment",
        {"accum": {"count": {"delta": {"identity": {"one": {"single": 1}}}}}},
    )
    net.set_param("matrix.patch", "grow", "at", REFLECT_PERIOD)
    net.set_param("matrix.patch", "grow", "period", REFLECT_PERIOD)
    wire(net, "arith.gate/guard/in", "matrix.patch/grow/delta")
    wire(net, "arith.gate/guard/gate", "less_or_equal/check/true")
    wire(net, "self/self/delta", "arith.gate/guard/out")
    for key, x, y in [
        ("self/self", 0, -300),
        ("matrix.summary/mirror", 300, -300),
        ("less_or_equal/check", 500, -100),
        ("time.constant/limit", 300, -50),
        ("time.clock/clock", -500, -300),
        ("matrix.patch/grow", -250, -300),
        ("arith.gate/guard", 0, -100),
        ("identity/one", -300, 100),
        ("accum/count", 0, 100),
    ]:
        at(net, key, x, y)
    return net


IMAGE_SIZE = 32


def softmax_images() -> Network:
    net = new(
        "Images as matrices: the softmax product, animated",
        "Two 32x32 images are multiplied as matrices with the talk's richer product: softmax on the rows "
        "of the left (a face) and on the columns of the right (rings that scroll one pixel a step), "
        "temperature 0.1. The product changes every frame, each entry is a weighted average of "
        "entries in [0, 1] (so it stays in [0, 1]), and synth.normalize/view rescales it to a full range "
        "for display; synth.blend/mix cross-fades the view with the plain matrix product, squeezed.",
    )
    t = clock(net)
    net.set_param("synth.image", "face", "pattern", "file")
    net.set_param("synth.image", "face", "file", "face.npy")
    net.set_param("synth.image", "rings", "pattern", "rings")
    net.set_param("synth.image", "rings", "size", [IMAGE_SIZE, IMAGE_SIZE])
    net.set_param("synth.image", "rings", "speed", 1.0)
    wire(net, "synth.image/rings/t", t)
    wire(net, "synth.softmax_matmul/product/left", "synth.image/face/image")
    wire(net, "synth.softmax_matmul/product/right", "synth.image/rings/image")
    net.set_param("synth.softmax_matmul", "product", "temperature", 0.1)
    wire(net, "synth.normalize/view/in", "synth.softmax_matmul/product/out")
    net.set_param("synth.normalize", "view", "mode", "always")
    wire(net, "synth.matmul/plain/left", "synth.image/face/image")
    wire(net, "synth.matmul/plain/right", "synth.image/rings/image")
    wire(net, "synth.normalize/squeeze/in", "synth.matmul/plain/out")
    net.set_param("synth.normalize", "squeeze", "mode", "always")
    wire(net, "synth.blend/mix/a", "synth.normalize/view/out")
    wire(net, "synth.blend/mix/b", "synth.normalize/squeeze/out")
    net.set_param("synth.blend", "mix", "mix", 0.3)
    for key, x, y in [
        ("self/self", 0, -300),
        ("time.clock/clock", -550, 150),
        ("synth.image/face", -300, -100),
        ("synth.image/rings", -300, 150),
        ("synth.softmax_matmul/product", 0, -50),
        ("synth.matmul/plain", 0, 200),
        ("synth.normalize/view", 250, -50),
        ("synth.normalize/squeeze", 250, 200),
        ("synth.blend/mix", 500, 75),
    ]:
        at(net, key, x, y)
    return net


def sin_synthesis() -> Network:
    net = new(
        "sin(a*x + b): synthesising an animation",
        "Unit generators y = sin(a*x + b) applied elementwise to images. synth.sin/stripes takes x = a "
        "48x48 gradient with a = 20 and a phase b = 0.3 t from the clock: stripes that travel. "
        "synth.sin/pulse takes x = concentric rings with its frequency a driven by a slow oscillator "
        "(synth.sin/lfo): rings that breathe. synth.blend/frame mixes them half and half. Every frame "
        "differs from the one before and every pixel stays in [-1, 1].",
    )
    t = clock(net)
    for name, pattern in (("ramp", "gradient"), ("rings", "rings")):
        net.set_param("synth.image", name, "pattern", pattern)
        net.set_param("synth.image", name, "size", [48, 48])
    net.set_param("synth.image", "rings", "cells", 1.0)
    wire(net, "synth.sin/stripes/x", "synth.image/ramp/image")
    net.set_param("synth.sin", "stripes", "a", 20.0)
    wire(net, "synth.sin/stripes/b", t, 0.3)
    wire(net, "synth.sin/lfo/x", t)
    net.set_param("synth.sin", "lfo", "a", 0.1)
    wire(net, "synth.sin/pulse/x", "synth.image/rings/image")
    net.set_param("synth.sin", "pulse", "a", 6.0)
    wire(net, "synth.sin/pulse/a", "synth.sin/lfo/y", 3.0)
    wire(net, "synth.blend/frame/a", "synth.sin/stripes/y")
    wire(net, "synth.blend/frame/b", "synth.sin/pulse/y")
    for key, x, y in [
        ("self/self", 0, -300),
        ("time.clock/clock", -550, 0),
        ("synth.image/ramp", -300, -150),
        ("synth.image/rings", -300, 150),
        ("synth.sin/lfo", -300, 320),
        ("synth.sin/stripes", 0, -150),
        ("synth.sin/pulse", 0, 150),
        ("synth.blend/frame", 280, 0),
    ]:
        at(net, key, x, y)
    return net


POPULATION = 12
POPULATION_RADIUS = 480.0


def field_population() -> Network:
    net = new(
        "A field modulating a population of unit generators",
        f"{POPULATION} identical unit generators y = sin(a*t), a = 0.3, sit on a ring on the canvas, all "
        "reading the clock. Without fields they would move in lockstep. A plane wave crossing the canvas "
        "(field 'ripple') modulates each unit's frequency param a by where it sits, and a bump induced by "
        "a slow oscillator placed at the right of the ring (field 'spotlight') amplifies the outputs of "
        "the units near it as arith.sum/mix reads them. The units drift apart by their position.",
    )
    t = clock(net)
    for i in range(POPULATION):
        name = f"u{i:02d}"
        wire(net, f"synth.sin/{name}/x", t)
        net.set_param("synth.sin", name, "a", 0.3)
        wire(net, f"arith.sum/mix/{name}", f"synth.sin/{name}/y")
        angle = 2 * math.pi * i / POPULATION
        at(net, f"synth.sin/{name}", POPULATION_RADIUS * math.cos(angle), POPULATION_RADIUS * math.sin(angle))
    wire(net, "synth.sin/lfo/x", t)
    net.set_param("synth.sin", "lfo", "a", 0.05)
    net.fields = [
        {
            "name": "ripple",
            "source": {"kind": "plane", "direction": [1, 0.5], "wavelength": 1200, "speed": 15},
            "strength": 0.5,
            "targets": ["param:a"],
            "covers": {"types": ["synth.sin"]},
        },
        {
            "name": "spotlight",
            "source": {"kind": "induced", "neuron": "synth.sin/lfo", "output": "y", "width": 250},
            "strength": 1.0,
            "targets": ["outputs"],
            "covers": {"neurons": [f"synth.sin/u{i:02d}" for i in range(POPULATION)]},
        },
    ]
    for key, x, y in [
        ("self/self", -750, -500),
        ("time.clock/clock", -750, 0),
        ("synth.sin/lfo", 700, 0),
        ("arith.sum/mix", -40, -110),
    ]:
        at(net, key, x, y)
    return net


PURE_N = 8
PURE_ALPHA = 0.3
PURE_FLIP = 25


def lightweight_pure() -> Network:
    net = new(
        "Lightweight pure DMM: a random matrix rewriting itself, kept bounded by squeeze",
        f"In the style of the authors' lightweight pure DMMs, every stream is an {PURE_N}x{PURE_N} matrix. "
        "synth.normalize/M holds a matrix that starts random; each step it takes its own value, plus "
        f"{PURE_ALPHA} times the product of itself with its transpose of the step before, plus a little "
        "seeded noise, and squeezes the sum: when its largest absolute entry is above 1 it divides by it, "
        "so every entry stays in [-1, 1]. Every "
        f"{PURE_FLIP} steps two matrix.patch neurons rewrite the network matrix itself through Self, "
        "flipping the sign of the product's wire: the update rule changes while the machine runs, and M "
        "never settles.",
    )
    t = clock(net)
    gen = torch.Generator().manual_seed(2017)
    m0 = torch.randn(PURE_N, PURE_N, generator=gen)
    net.set_output("synth.normalize", "M", "out", {":tensor": m0 / m0.abs().max()})
    wire(net, "synth.normalize/M/in", "synth.normalize/M/out")
    wire(net, "synth.transpose/T/in", "synth.normalize/M/out")
    wire(net, "synth.matmul/product/left", "synth.normalize/M/out")
    wire(net, "synth.matmul/product/right", "synth.transpose/T/out")
    wire(net, "synth.normalize/M/in", "synth.matmul/product/out", PURE_ALPHA)
    wire(net, "time.noise/jitter/t", t)
    net.set_param("time.noise", "jitter", "shape", [PURE_N, PURE_N])
    net.set_param("time.noise", "jitter", "scale", 0.05)
    net.set_param("time.noise", "jitter", "seed", 7)
    wire(net, "synth.normalize/M/in", "time.noise/jitter/out")
    flip = {"synth.normalize": {"M": {"in": {"synth.matmul": {"product": {"out": -2 * PURE_ALPHA}}}}}}
    for name, start, sign in (("flip_down", PURE_FLIP, 1.0), ("flip_up", 2 * PURE_FLIP, -1.0)):
        wire(net, f"matrix.patch/{name}/t", t)
        net.set_param("matrix.patch", name, "fragment", flip)
        net.set_param("matrix.patch", name, "scale", sign)
        net.set_param("matrix.patch", name, "at", start)
        net.set_param("matrix.patch", name, "period", 2 * PURE_FLIP)
        wire(net, "self/self/delta", f"matrix.patch/{name}/delta")
    for key, x, y in [
        ("self/self", 0, -350),
        ("time.clock/clock", -550, -200),
        ("matrix.patch/flip_down", -300, -350),
        ("matrix.patch/flip_up", -300, -200),
        ("synth.normalize/M", -100, 50),
        ("synth.transpose/T", 200, 200),
        ("synth.matmul/product", 300, -20),
        ("time.noise/jitter", -400, 250),
    ]:
        at(net, key, x, y)
    return net


def live_play() -> Network:
    net = new(
        "Play it live: a slider, an XY pad and a list of clicks",
        "Neurons you play while it runs (the Live panel, View -> Live). live.slider/freq drives the "
        "frequency a of synth.sin/rings, y = sin(a*x + b) on a 48x48 image of concentric rings, so moving "
        "the slider changes the image two steps later (the slider's output, then the sine); live.xy/pad's x drives its phase b (through "
        "arith.dot/phase, which reads x out of the pad's position {x, y}), and identity/where holds the "
        "pad's position for a plot. Each click on the pad is a point for one step, which data.cons/clicks "
        "pushes on a list, as the reference implementation's click-list experiment did. Headless: "
        "m.set_param('live.slider', 'freq', 'value', 12) and m.set_param_once('live.xy', 'pad', 'click', "
        "{'x': 0.2, 'y': 0.7}).",
    )
    net.set_param("live.slider", "freq", "value", 6.0)
    net.set_param("live.slider", "freq", "min", 1.0)
    net.set_param("live.slider", "freq", "max", 20.0)
    net.set_param("live.xy", "pad", "x", 0.25)
    net.set_param("live.xy", "pad", "y", 0.5)
    net.set_param("synth.image", "rings", "pattern", "rings")
    net.set_param("synth.image", "rings", "size", [48, 48])
    net.set_param("synth.image", "rings", "cells", 1.0)
    net.set_param("synth.sin", "rings", "a", 0.0)
    wire(net, "synth.sin/rings/x", "synth.image/rings/image")
    wire(net, "synth.sin/rings/a", "live.slider/freq/value")
    # the phase: 2*pi times the pad's x (a dot product with the constant {x: 2*pi})
    net.set_param("time.constant", "x_only", "value", {"x": round(2 * math.pi, 6)})
    wire(net, "arith.dot/phase/left", "live.xy/pad/pos")
    wire(net, "arith.dot/phase/right", "time.constant/x_only/out")
    wire(net, "synth.sin/rings/b", "arith.dot/phase/out")
    wire(net, "identity/where/single", "live.xy/pad/pos")
    wire(net, "data.cons/clicks/item", "live.xy/pad/click")
    wire(net, "data.cons/clicks/list", "data.cons/clicks/list")
    net.set_param("data.cons", "clicks", "max_length", 20)
    for key, x, y in [
        ("self/self", 0, -320),
        ("live.slider/freq", -560, -160),
        ("live.xy/pad", -560, 120),
        ("time.constant/x_only", -560, 320),
        ("synth.image/rings", -300, -200),
        ("arith.dot/phase", -300, 40),
        ("synth.sin/rings", 0, -120),
        ("identity/where", 0, 200),
        ("data.cons/clicks", 0, 360),
    ]:
        at(net, key, x, y)
    net.set_probes(
        {
            "synth.sin/rings": [{"port": "y", "view": "image"}],
            "identity/where": [{"port": "single", "view": "plot"}],
            "data.cons/clicks": [{"port": "length", "view": "plot"}],
        }
    )
    return net


EXAMPLES = {
    "duplicates": duplicates,
    "word_count": word_count,
    "fuzzy_if": fuzzy_if,
    "live_edit": live_edit,
    "reflection": reflection,
    "softmax_images": softmax_images,
    "sin_synthesis": sin_synthesis,
    "field_population": field_population,
    "lightweight_pure": lightweight_pure,
    "live_play": live_play,
}


# what each example opens with (the studio shows these when the file opens, and the
# README's gallery is made from exactly that: docs/make_gallery.py): the probes that
# show what it is about, and the docks (meta "views") it needs beside them
SHOWN: dict[str, tuple[list[str], list[str]]] = {
    "duplicates": (["arith.dot/detector/out", "data.cons/repeats/list"], []),
    "word_count": (["data.word_count/counts/counts", "data.word_count/counts/total"], []),
    "fuzzy_if": (["identity/result/single", "synth.sin/cond/y"], []),
    "live_edit": (["accum/count/single", "accum/total/single"], ["self"]),
    "reflection": (["matrix.summary/mirror/max_norm", "accum/count/single"], ["self"]),
    "softmax_images": (["synth.softmax_matmul/product/out", "synth.blend/mix/out"], []),
    "sin_synthesis": (["synth.blend/frame/out", "synth.sin/pulse/y"], []),
    "field_population": (["synth.sin/u00/y", "synth.sin/u06/y", "arith.sum/mix/out"], ["fields"]),
    "lightweight_pure": (["synth.normalize/M/out", "synth.normalize/M/norm"], ["self"]),
    "live_play": (["synth.sin/rings/y", "identity/where/single", "data.cons/clicks/length"], ["live"]),
}


def show(net: Network, probes: list[str], views: list[str]) -> None:
    """Open ``net`` with these probes ('type/name/output') and docks (meta "views")."""
    kept: dict[str, list[dict[str, str]]] = {}
    for p in probes:
        f, n, o = p.split("/")
        kept.setdefault(f"{f}/{n}", []).append({"port": o})
    net.set_probes(kept)
    if views:
        net.meta["views"] = list(views)


def shown(name: str, make: Callable[[], Network]) -> Callable[[], Network]:
    """``make``, then what the example opens with (``SHOWN``)."""

    def build() -> Network:
        net = make()
        show(net, *SHOWN.get(name, ([], [])))
        return net

    build.__name__ = make.__name__
    return build


EXAMPLES = {name: shown(name, make) for name, make in EXAMPLES.items()}


def main() -> None:
    for name, make in EXAMPLES.items():
        net = make()
        net.save(HERE / f"{name}.dmm.json")
        print(f"wrote examples/{name}.dmm.json: {net.meta['title']}")


if __name__ == "__main__":
    main()
