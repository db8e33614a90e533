"""Hypothesis strategies: random DMM networks (an initial state ``y_0`` that
holds ``W_0``) built from the SPEC §5 types.

Numbers are dyadic (halves, quarters, small ints) so that every sum and
product is exact in float64 and, for tensors, in float32: then two engines
that add in different orders agree exactly, and cancellation to zero (an
entry, an output, the whole matrix) happens in both at the same step.

What the networks cover: scalar, word-count (nested dict) and tensor streams
of two shapes; Self-modifying networks (constant neurons that hold matrix
fragments wired into ``self/self/delta``, so weights change, entries appear
and cancel, the active part grows and shrinks, and W may vanish: halting);
occasional reflection (a neuron reading ``self/self/network_matrix``) and
Self's own accum row being edited (both take the compiled engine's slow path).
"""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st

WEIGHTS = [1, -1, 2, -2, 3, 0.5, -0.5, 1.0, 0.25, -1.5]
TENSOR_WEIGHTS = [1, -1, 2, -2, 0.5, -0.5, 1.0]
SHAPES = {"tA": (3,), "tB": (2, 2)}
WORDS = ["cat", "dog", "emu"]

# type -> (inputs, outputs)
PORTS = {
    "identity": (["single", "aux"], None),  # mirror: outputs = inputs
    "accum": (["accum", "delta"], ["single"]),
    "max_norm": (["in"], ["norm"]),
    "less_or_equal": (["left", "right"], ["true", "false"]),
    "mult_mask": (["mask", "main"], ["single"]),
}
SCALAR_OUT = {"max_norm", "less_or_equal"}


def set_weight(w: dict[str, Any], to: tuple[str, str, str], frm: tuple[str, str, str], x: Any) -> None:
    node = w
    for k in to + frm[:2]:
        node = node.setdefault(k, {})
    node[frm[2]] = node.get(frm[2], 0) + x
    if node[frm[2]] == 0:
        del node[frm[2]]


@st.composite
def scalars(draw: Any) -> Any:
    return draw(st.sampled_from([1, 2, -1, 3, 0.5, -0.25, 1.5, -2]))


@st.composite
def stream_value(draw: Any, kind: str) -> dict[str, Any]:
    """An initial output of a stream kind (canonical V-value)."""
    if kind == "scalar":
        return {":number": draw(scalars())}
    if kind == "words":
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True))
        v: dict[str, Any] = {w: draw(scalars()) for w in words}
        if draw(st.booleans()):
            v["nest"] = {"x": draw(scalars())}
        if draw(st.integers(0, 3)) == 0:
            v[":number"] = draw(scalars())
        return v
    shape = SHAPES[kind]
    n = 1
    for s in shape:
        n *= s
    data = draw(st.lists(st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, -0.25]), min_size=n, max_size=n))
    v = {":tensor": torch.tensor(data, dtype=torch.float32).reshape(shape)}
    if draw(st.integers(0, 4)) == 0:
        v[":number"] = draw(scalars())
    return v


@st.composite
def networks(draw: Any, max_neurons: int = 7, self_modifying: bool | None = None) -> dict[str, Any]:
    """A random state ``y_0`` (with ``W_0`` in Self's output)."""
    n = draw(st.integers(1, max_neurons))
    use_tensors = draw(st.booleans())
    kinds_pool = ["scalar", "scalar", "words"] + (["tA", "tB"] if use_tensors else [])
    neurons: list[tuple[str, str, str]] = []  # (type, name, kind)
    for k in range(n):
        t = draw(st.sampled_from(list(PORTS)))
        kind = "scalar" if t in SCALAR_OUT else draw(st.sampled_from(kinds_pool))
        neurons.append((t, f"n{k}", kind))

    w: dict[str, Any] = {}
    set_weight(w, ("self", "self", "accum"), ("self", "self", "network_matrix"), 1)
    y: dict[str, Any] = {}

    def outputs_of(t: str) -> list[str]:
        return PORTS[t][0] if PORTS[t][1] is None else PORTS[t][1]  # type: ignore[return-value]

    sources = [(t, nm, o, kind) for t, nm, kind in neurons for o in outputs_of(t)]
    targets = [(t, nm, i) for t, nm, _ in neurons for i in PORTS[t][0]]
    tensor_kind_of_input: dict[tuple[str, str, str], str] = {}
    # initial outputs
    for t, nm, o, kind in sources:
        if draw(st.integers(0, 2)):
            y.setdefault(t, {}).setdefault(nm, {})[o] = draw(stream_value(kind))
    # wires
    n_wires = draw(st.integers(1, 3 * n + 2))
    for _ in range(n_wires):
        g, m, o, kind = draw(st.sampled_from(sources))
        to = draw(st.sampled_from(targets))
        if kind in SHAPES:
            if tensor_kind_of_input.setdefault(to, kind) != kind and draw(st.integers(0, 9)):
                continue  # mostly keep tensor kinds apart (a mismatch is a legit error, rarely)
            weight = draw(st.sampled_from(TENSOR_WEIGHTS))
        else:
            weight = draw(st.sampled_from(WEIGHTS))
        set_weight(w, to, (g, m, o), weight)
    # self-modification: constant neurons holding matrix fragments, wired into Self's delta
    if self_modifying is None:
        self_modifying = draw(st.booleans())
    if self_modifying:
        n_frag = draw(st.integers(1, 3))
        all_sources = [(g, m, o) for g, m, o, _ in sources]
        for k in range(n_frag):
            name = f"frag{k}"
            frag: dict[str, Any] = {}
            for _ in range(draw(st.integers(1, 4))):
                choice = draw(st.integers(0, 9))
                if choice == 0:  # move Self's delta row (waves)
                    to, frm = (
                        ("self", "self", "delta"),
                        ("identity", f"frag{draw(st.integers(0, n_frag - 1))}", "single"),
                    )
                elif choice == 1:  # edit Self's accum row (slow path), rarely
                    to, frm = ("self", "self", "accum"), ("self", "self", "network_matrix")
                elif choice == 2:  # reflection: someone reads W
                    to, frm = draw(st.sampled_from(targets)), ("self", "self", "network_matrix")
                else:
                    to = draw(st.sampled_from(targets))
                    frm = draw(st.sampled_from(all_sources))
                    if any(s[3] in SHAPES for s in sources if s[:3] == frm):
                        continue
                set_weight(frag, to, frm, draw(st.sampled_from([1, -1, 2, -0.5, 0.5])))
            if draw(st.integers(0, 5)) == 0:  # cancel everything wired so far: W may vanish
                frag = _negated(w)
            y.setdefault("identity", {})[name] = {"single": frag} if frag else {}
            set_weight(w, ("identity", name, "single"), ("identity", name, "single"), 1)
            if draw(st.integers(0, 3)):
                set_weight(w, ("self", "self", "delta"), ("identity", name, "single"), 1)
    y.setdefault("self", {})["self"] = {"network_matrix": w}
    return y


def _negated(w: Any) -> Any:
    if isinstance(w, dict):
        return {k: _negated(v) for k, v in w.items()}
    return -w
