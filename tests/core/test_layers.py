"""The layered core: importing the core (V-values, the matrix vocabulary,
networks, files, fields, history, the engines' package, machines, the host,
the built-in pack) and editing, loading and saving a network never imports
torch; only building an engine does. Checked in a fresh interpreter,
so that what other tests imported cannot hide an import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dmm_studio

ROOT = Path(__file__).resolve().parents[2]

# torch is made impossible to import, so that a module that imports it fails
# with a traceback naming the culprit; then sys.modules is checked as well
NO_TORCH_RUN = r"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError(f"torch imported while the core was only read: {name}")
sys.meta_path.insert(0, Block())

import dmm_studio
import dmm_studio.vvalue, dmm_studio.matrix, dmm_studio.registry, dmm_studio.fields
import dmm_studio.network, dmm_studio.fileformat, dmm_studio.history, dmm_studio.breaks
import dmm_studio_nodes
import dmm_studio.engine, dmm_studio.machine, dmm_studio.recorder, dmm_studio.host, dmm_studio.cli
from dmm_studio import Network, load, save_network, canon, add
from dmm_studio.engine import ENGINES, DEFAULT_ENGINE

assert sorted(ENGINES) == ["compiled", "reference"] and DEFAULT_ENGINE in ENGINES

net = load(sys.argv[1])          # loads every installed pack through the entry point
net.validate()
net.set_weight(("synth.sin", "u", "t"), ("self", "self", "network_matrix"), 0.5)
net.rename_neuron("synth.sin", "u", "u2")
net.remove_neuron("synth.sin", "u2")
save_network(net, sys.argv[2])
assert load(sys.argv[2]).matrix == net.matrix
assert add(canon({"a": 1}), {"a": 2}) == {"a": 3}
assert "torch" not in sys.modules, "torch is in sys.modules"
print("ok", len(net.neurons()))
"""


def test_design_side_of_the_core_never_imports_torch(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            NO_TORCH_RUN,
            str(ROOT / "examples" / "waves.dmm.json"),
            str(tmp_path / "w.dmm.json"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok ")


def test_plain_import_of_the_package_leaves_torch_out():
    for module in ("dmm_studio", "dmm_studio.vvalue", "dmm_studio.network", "dmm_studio.fileformat"):
        r = subprocess.run(
            [sys.executable, "-c", f"import sys, {module}; print('torch' in sys.modules)"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "False", f"import {module} imported torch"


def test_building_a_machine_still_imports_the_engines():
    # the lazy package still offers every name it did, from the module that defines it
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, dmm_studio as d; m = d.load(sys.argv[1]).machine(); m.step(2);"
            " print('torch' in sys.modules, m.t)",
            str(ROOT / "examples" / "waves.dmm.json"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "2"]


def test_lazy_package_names():
    from dmm_studio import engine, fileformat, machine, network, registry, vvalue

    assert sorted(dmm_studio.__all__) == sorted(dmm_studio._EXPORTS)
    assert dmm_studio.Network is network.Network
    assert dmm_studio.Machine is machine.Machine
    assert dmm_studio.load is fileformat.load_network
    assert dmm_studio.make_engine is engine.make_engine
    assert dmm_studio.default_registry is registry.default_registry
    assert dmm_studio.scale is vvalue.scale
    assert set(dmm_studio.__all__) <= set(dir(dmm_studio))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = dmm_studio.Nope


def test_every_core_module_has_a_layer():
    # a module left out of the layers contract would escape it
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers" and c["name"].startswith("The core")]
    named = {m.strip() for layer in layers for m in layer.split("|")}
    package = ROOT / "dmm_studio"
    modules = {f"dmm_studio.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {f"dmm_studio.{p.name}" for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert modules - named == set(), "modules missing from the layers contract in pyproject.toml"
