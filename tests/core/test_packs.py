"""Broken neuron packs are skipped, one line each, never fatal; a network that
uses a type of a skipped pack says which type and which pack."""

from __future__ import annotations

import io
import sys
import types
from importlib import metadata

import pytest

from dmm_studio import registry as registry_mod
from dmm_studio.registry import Registry, RegistryError, load_packs, neuron, self_neuron


@neuron("good.twice", inputs=["x"], outputs=["y"])
def twice(x, p):
    return {"y": x["x"]}


@neuron("other.twice", inputs=["x"], outputs=["y"])
def other(x, p):
    return {"y": x["x"]}


def _exit():
    sys.exit(3)


def _raise():
    raise RuntimeError("the pack's own bug")


# a module the fake entry points load from
fake = types.ModuleType("fakepacks")
fake.good = lambda: [twice]
fake.exits = _exit
fake.raises = _raise
fake.junk = lambda: 42
fake.junk_items = lambda: [twice.id]
fake.repeats = lambda: [other, twice]  # twice is the good pack's
fake.not_callable = [twice]


def entry_points(*specs):
    return [metadata.EntryPoint(name, value, registry_mod.ENTRY_POINT_GROUP) for name, value in specs]


@pytest.fixture
def packs(monkeypatch):
    monkeypatch.setitem(sys.modules, "fakepacks", fake)

    def use(*specs):
        eps = entry_points(*specs)
        monkeypatch.setattr(registry_mod.metadata, "entry_points", lambda group=None, **kw: eps)
        reg = Registry([self_neuron])
        err = io.StringIO()
        load_packs(reg, err)
        return reg, err.getvalue()

    return use


@pytest.mark.parametrize(
    "value, why",
    [
        ("nopack_missing_module:types", "ModuleNotFoundError: No module named 'nopack_missing_module'"),
        ("fakepacks:raises", "RuntimeError: the pack's own bug"),
        ("fakepacks:exits", "SystemExit: 3"),
        ("fakepacks:junk", "returned int, not an iterable of NeuronType"),
        ("fakepacks:junk_items", "returned 'good.twice' among its types, not a NeuronType"),
        ("fakepacks:repeats", "declares the neuron type 'good.twice', which is already registered"),
        ("fakepacks:not_callable", "not a function"),
    ],
)
def test_a_broken_pack_is_skipped_with_one_line(packs, value, why):
    reg, err = packs(("good", "fakepacks:good"), ("broken", value))
    assert "good.twice" in reg  # the good pack loads, before or after
    assert err.count("\n") == 1 and "neuron pack 'broken'" in err and why in err, err
    assert why in reg.skipped["broken"]
    assert "other.twice" not in reg  # a skipped pack registers nothing
    reg2, err2 = packs(("broken", value), ("good", "fakepacks:good"))
    assert "good.twice" in reg2 and err2.count("\n") == 1
    # the first pack to declare a type keeps it; the later one is skipped
    assert f"neuron pack {'good' if 'repeats' in value else 'broken'!r}" in err2


def test_a_network_using_a_skipped_packs_type_names_the_type_and_the_pack(packs):
    reg, _ = packs(("fakepacks", "fakepacks:raises"))
    with pytest.raises(RegistryError) as e:
        reg.get("fakepacks.sin")
    msg = str(e.value)
    assert "unknown neuron type 'fakepacks.sin'" in msg
    assert "the neuron pack 'fakepacks' that would provide it was skipped: RuntimeError" in msg
    with pytest.raises(RegistryError, match="no installed neuron pack provides it"):
        reg.get("elsewhere.sin")


def test_a_step_through_a_missing_type_says_which_pack(packs):
    from dmm_studio.engine import StepError
    from dmm_studio.network import Network, self_accum_row
    from dmm_studio.vvalue import add

    reg, _ = packs(("fakepacks", "fakepacks:raises"))
    w = add(self_accum_row(), {"fakepacks.sin": {"s": {"x": {"self": {"self": {"network_matrix": 1}}}}}})
    m = Network(outputs={"self": {"self": {"network_matrix": w}}}).machine(engine="reference", registry=reg)
    with pytest.raises(StepError, match="fakepacks.sin.*the neuron pack 'fakepacks' that would provide it"):
        m.step()


def test_a_file_that_uses_a_skipped_packs_type_says_which_pack(packs, tmp_path):
    import json

    from dmm_studio.fileformat import NetworkFileError, loads_network

    reg, _ = packs(("fakepacks", "fakepacks:exits"))
    data = {
        "format": "dmm-studio/1",
        "outputs": {"self": {"self": {"network_matrix": {}}}, "fakepacks.sin": {"s": {"y": 1}}},
    }
    with pytest.raises(NetworkFileError) as e:
        loads_network(json.dumps(data), "net.dmm.json", registry=reg)
    msg = str(e.value)
    assert msg.count("\n") == 0 and "unknown neuron type 'fakepacks.sin'" in msg
    assert "the neuron pack 'fakepacks' that would provide it was skipped: SystemExit: 3" in msg
