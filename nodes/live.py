"""Neurons you play live: a slider, a button, an XY pad and a text input.

Each is a source (no inputs, active while something reads it) whose output
is its params: the studio's Live panel (``dmm_studio.gui.live_controls``)
sets those params while the network runs, through the same live edit as
any param (``Machine.set_param``), so a value is undone like an edit and
saved as the param. What happens once is a param set for one step
(``Machine.set_param_once``): a button's press, an XY pad's click, the
tokens of a text sent one a step. Headless, a script plays them the same
way::

    m.set_param("live.slider", "freq", "value", 8.0)       # from now on
    m.set_param_once("live.xy", "pad", "click", {"x": 0.2, "y": 0.7})  # next step only
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dmm_studio import vvalue as vv
from dmm_studio.registry import neuron

from ._util import as_number, number, token_label, vvalue_param

V = vv.VValue
P = Mapping[str, Any]
FAMILY = "live"

UNITS = ("word", "char")


@neuron(
    "live.slider",
    inputs=[],
    outputs=["value"],
    params={"value": 0.5, "min": 0.0, "max": 1.0},
    family=FAMILY,
)
def slider(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Slider / number box: value = the param value, which the Live panel's
    slider sets while the network runs (its range is min..max; a value set
    outside it is kept as it is). Undone like an edit, saved as the param."""
    return {"value": number(as_number(p["value"], "value"))}


@neuron("live.button", inputs=[], outputs=["pulse"], params={"pulse": 0, "label": "press"}, family=FAMILY)
def button(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Button: pulse = 1 for the one step after each press (the Live panel
    sets the param pulse to 1 for one step; presses faster than steps wait
    their turn, one a step), else nothing. label names the button."""
    return {"pulse": number(as_number(p["pulse"], "pulse"))}


@neuron(
    "live.xy",
    inputs=[],
    outputs=["pos", "click"],
    params={"x": 0.5, "y": 0.5, "click": {}},
    family=FAMILY,
)
def xy_pad(x: Mapping[str, V], p: P) -> dict[str, V]:
    """XY pad: pos = {"x": x, "y": y}, the pad's position (each in 0..1, y
    up), set as you drag; click = the point {"x": .., "y": ..} for the one
    step after each click on the pad (clicks faster than steps wait their
    turn), else nothing: wire it to data.cons's item to keep a list of clicks."""
    pos = vv.canon({"x": as_number(p["x"], "x"), "y": as_number(p["y"], "y")})
    return {"pos": pos, "click": vvalue_param(p["click"], "click")}


@neuron(
    "live.text",
    inputs=[],
    outputs=["token"],
    params={"text": "", "unit": "word", "token": ""},
    family=FAMILY,
)
def text_input(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Text input: type a text and send it; its words (unit "word") or
    characters (unit "char") come out one a step, each as the one-hot
    token = {w: 1} (the Live panel sets the param token for one step each).
    text is what the box holds (saved)."""
    unit = p["unit"]
    if unit not in UNITS:
        raise ValueError(f"param 'unit' must be 'word' or 'char', not {unit!r}")
    tok = p["token"]
    if not isinstance(tok, str):
        raise ValueError(f"param 'token' must be a string, not {tok!r}")
    return {"token": {token_label(tok): 1} if tok else {}}


def tokens(text: str, unit: str) -> list[str]:
    """The tokens a text input sends for ``text``: its words (split at white
    space) or its characters (white space included)."""
    if unit == "char":
        return list(text)
    return text.split()


TYPES = [slider, button, xy_pad, text_input]
