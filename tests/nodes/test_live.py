"""The live sources (slider, button, XY pad, text input): what each emits
from its params, and how a script plays them headless on a Machine."""

from __future__ import annotations

import pytest
from dmm_studio_nodes.data import list_items
from dmm_studio_nodes.live import tokens

from dmm_studio.network import Network
from dmm_studio.registry import default_registry

ENGINES = ["reference", "compiled"]


def call(type_id: str, **params):
    return default_registry().get(type_id).call({}, params)


def test_what_each_emits_from_its_params() -> None:
    assert call("live.slider") == {"value": {":number": 0.5}}
    assert call("live.slider", value=3) == {"value": {":number": 3}}
    assert call("live.button") == {"pulse": {}}
    assert call("live.button", pulse=1) == {"pulse": {":number": 1}}
    assert call("live.xy", x=0.25, y=1) == {"pos": {"x": 0.25, "y": 1}, "click": {}}
    assert call("live.xy", click={"x": 0.5, "y": 0.5})["click"] == {"x": 0.5, "y": 0.5}
    assert call("live.text", token="cat") == {"token": {"cat": 1}}
    assert call("live.text", token=":x") == {"token": {"\\:x": 1}}  # labels never start with ':'
    assert call("live.text") == {"token": {}}
    with pytest.raises(ValueError, match="unit"):
        call("live.text", unit="line")


def test_tokens_of_a_text() -> None:
    assert tokens("the cat  sat", "word") == ["the", "cat", "sat"]
    assert tokens("ab c", "char") == ["a", "b", " ", "c"]


def _clicks_network() -> Network:
    net = Network.empty()
    net.set_weight(("data.cons", "clicks", "item"), ("live.xy", "pad", "click"), 1)
    net.set_weight(("data.cons", "clicks", "list"), ("data.cons", "clicks", "list"), 1)
    net.set_weight(("identity", "seen", "single"), ("live.xy", "pad", "pos"), 1)
    net.set_weight(("identity", "bang", "single"), ("live.button", "b", "pulse"), 1)
    return net


@pytest.mark.parametrize("engine", ENGINES)
def test_clicks_on_a_pad_build_a_list_one_a_step(engine: str) -> None:
    m = _clicks_network().machine(engine=engine)
    m.step(1)
    assert m.output("data.cons", "clicks", "list") == {}
    m.set_param_once("live.xy", "pad", "click", {"x": 0.25, "y": 0.5})
    m.set_param_once("live.xy", "pad", "click", {"x": 0.75, "y": 0.125})
    m.set_param("live.xy", "pad", "x", 0.75)
    m.step(4)  # step 1, 2: the clicks come out; then they reach the list
    items = list_items(m.output("data.cons", "clicks", "list"))
    assert [dict(i) for i in items] == [{"x": 0.75, "y": 0.125}, {"x": 0.25, "y": 0.5}]
    assert m.output("identity", "seen", "single") == {"x": 0.75, "y": 0.5}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_press_is_a_pulse_of_one_step(engine: str) -> None:
    m = _clicks_network().machine(engine=engine)
    m.set_param_once("live.button", "b", "pulse", 1)
    seen = []
    for _ in range(4):
        m.step(1)
        seen.append(m.output("live.button", "b", "pulse").get(":number", 0))
    assert seen == [1, 0, 0, 0]
