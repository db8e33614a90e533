"""Modulating fields in torch: the gains of ``dmm_studio.fields`` with
gradients, so a field's numbers (strength, centre, wavelength, speed, ...)
can be trained.

``TorchFields`` computes, for the step from ``t`` to ``t + 1``, the same
gains as ``fields.compute_gains`` (docs/fields.md): for each enabled entry
and each neuron it covers, ``gain = 1 + strength * v(pos, t)``, multiplied
into the entry's targets. Which neurons an entry covers, and where they sit,
are fixed for the run (``fields.covered``); the numbers of each entry are
float64 tensors, trainable ones are ``torch.nn.Parameter``s.

Trained numbers are held relative to their scale (``SCALES``), so one
learning rate suits a strength of 0.5 and a wavelength of 700. A trainable
key is ``"strength"`` or ``"source.KEY"`` (``"source.center"``,
``"source.wavelength"``, ...; inside a sum, ``"source.of.0.wavelength"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..fields import _SOURCES, covered, positions_of

NUMERIC_KEYS = {
    kind: [k for k, v in keys.items() if isinstance(v, (int, float, list))] for kind, keys in _SOURCES.items()
}


# A trained number is held in units of its scale, max(|its first value|, the
# key's scale here): an optimiser's step (~lr) then moves a wavelength of 700
# by ~lr * 700, not by ~lr canvas units.
SCALES = {"center": 100.0, "width": 100.0, "wavelength": 100.0, "decay": 100.0}


def _source_keys(src: Mapping[str, Any], prefix: str) -> list[str]:
    if src["kind"] == "sum":
        out: list[str] = []
        for i, part in enumerate(src["of"]):
            out += _source_keys(part, f"{prefix}.of.{i}")
        return out
    return [f"{prefix}.{k}" for k in NUMERIC_KEYS[src["kind"]]]


def trainable_keys(entry: Mapping[str, Any]) -> list[str]:
    """The keys of a field entry that training may change."""
    return ["strength", *_source_keys(entry["source"], "source")]


class TorchFields(torch.nn.Module):
    """The fields of a network as a module of tensors.

    ``neurons``: the run's neurons (their order is the order of the gains);
    ``trainable``: field name -> the keys to train (``trainable_keys``)."""

    def __init__(
        self,
        fields: Sequence[Mapping[str, Any]],
        layout: Mapping[str, Any],
        neurons: Sequence[tuple[str, str]],
        trainable: Mapping[str, Sequence[str]],
        device: torch.device,
    ) -> None:
        super().__init__()
        self.device = device
        positions = positions_of(layout)
        keys = [f"{f}/{n}" for f, n in neurons]
        at = [i for i, k in enumerate(keys) if k in positions]
        pos = np.array([positions[keys[i]] for i in at], dtype=np.float64).reshape(-1, 2)
        self.n = len(neurons)
        self.entries: list[dict[str, Any]] = []
        self.values = torch.nn.ParameterDict()
        self.fixed: dict[str, torch.Tensor] = {}
        self.scales: dict[str, float] = {}
        self.index_of = {k: i for i, k in enumerate(keys)}
        self.positions = positions
        for e_i, entry in enumerate(fields):
            if not entry.get("enabled", True):
                continue
            idx = covered(entry, [keys[i] for i in at], pos)
            if not len(idx):
                continue
            name = entry["name"]
            want = set(trainable.get(name, ()))
            numbers: dict[str, str] = {}  # key -> slot name
            for key in trainable_keys(entry):
                value = self._lookup(entry, key)
                slot = f"f{e_i}_{key.replace('.', '_')}"
                t = torch.tensor(value, dtype=torch.float64, device=device)
                if key in want:
                    scale = max(float(t.abs().max()), SCALES.get(key.rsplit(".", 1)[-1], 1.0))
                    self.scales[slot] = scale
                    self.values[slot] = torch.nn.Parameter(t / scale)
                else:
                    self.fixed[slot] = t
                numbers[key] = slot
            self.entries.append(
                {
                    "entry": entry,
                    "idx": torch.as_tensor(np.asarray(at)[idx], dtype=torch.long, device=device),
                    "pos": torch.as_tensor(pos[idx], dtype=torch.float64, device=device),
                    "numbers": numbers,
                }
            )

    @staticmethod
    def _lookup(entry: Mapping[str, Any], key: str) -> Any:
        if key == "strength":
            return float(entry.get("strength", 1.0))
        node: Any = entry
        parts = key.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node[p]
        last = parts[-1]
        return node.get(last, _SOURCES[node["kind"]][last])

    def number(self, e: Mapping[str, Any], key: str) -> torch.Tensor:
        slot = e["numbers"][key]
        return self.values[slot] * self.scales[slot] if slot in self.values else self.fixed[slot]

    # ------------------------------------------------------------ evaluation
    def _source(
        self, e: Mapping[str, Any], src: Mapping[str, Any], prefix: str, pts: torch.Tensor, t: float,
        read: Any,
    ) -> torch.Tensor:
        kind = src["kind"]

        def num(k: str) -> torch.Tensor:
            return self.number(e, f"{prefix}.{k}")

        if kind == "sum":
            total = torch.zeros(len(pts), dtype=torch.float64, device=self.device)
            for i, part in enumerate(src["of"]):
                total = total + self._source(e, part, f"{prefix}.of.{i}", pts, t, read)
            return total
        if kind == "constant":
            return num("value").expand(len(pts))
        a = num("amplitude")
        if kind == "oscillation":
            return (a * torch.sin(2 * math.pi * num("frequency") * t + num("phase"))).expand(len(pts))
        if kind == "plane":
            d = num("direction")
            d = d / torch.sqrt((d * d).sum())
            s = pts @ d
            return a * torch.sin(2 * math.pi * (s - num("speed") * t) / num("wavelength") + num("phase"))
        if kind == "radial":
            r = torch.sqrt(((pts - num("center")) ** 2).sum(-1))
            out = a * torch.sin(2 * math.pi * (r - num("speed") * t) / num("wavelength") + num("phase"))
            decay = num("decay")
            return torch.where(decay > 0, out * torch.exp(-r / torch.where(decay > 0, decay, 1.0)), out)
        if kind == "bump":
            c = num("center") + t * num("velocity")
            w = num("width")
            return a * torch.exp(-((pts - c) ** 2).sum(-1) / (2 * w * w))
        if kind == "induced":
            key = src["neuron"]
            q = self.positions.get(key)
            s = read(key, src.get("output", "single")) if q is not None else None
            if s is None:  # [E] scalars of the emitter's output, or None (no output)
                return torch.zeros(len(pts), dtype=torch.float64, device=self.device)
            qt = torch.tensor(q, dtype=torch.float64, device=self.device)
            d = torch.sqrt(((pts - qt) ** 2).sum(-1))
            w = num("width")
            k = 1.0 / (1.0 + d / w) if src.get("falloff", "gaussian") == "inverse" else torch.exp(-(d * d) / (2 * w * w))
            return a * s.unsqueeze(-1) * k  # [E, k]
        raise ValueError(f"unknown field source kind {kind!r}")

    def gains(self, t: int, read: Any, episodes: int) -> dict[str, torch.Tensor]:
        """The gains of the step from ``t`` to ``t + 1``: ``{"inputs": [E, N],
        "outputs": [E, N], "param:NAME": [E, N]}`` over the run's neurons (1
        where no field acts); ``read(key, output)`` gives an emitter's scalar
        ``[E]`` (or None)."""
        out: dict[str, torch.Tensor] = {}
        for e in self.entries:
            entry = e["entry"]
            v = self._source(e, entry["source"], "source", e["pos"], float(t), read)
            g = 1.0 + self.number(e, "strength") * v
            g = g.expand(episodes, len(e["idx"])) if g.dim() == 1 else g
            for target in entry["targets"]:
                key = "inputs" if target in ("inputs", "weights") else target
                cur = out.get(key)
                if cur is None:
                    cur = torch.ones(episodes, self.n, dtype=torch.float64, device=self.device)
                cur = cur.index_copy(1, e["idx"], cur[:, e["idx"]] * g)
                out[key] = cur
        return out

    def current(self) -> list[tuple[int, str, float | list[float]]]:
        """The trainable numbers as ``(entry index in fields, key, value)``."""
        out = []
        for slot, p in self.values.items():
            for e in self.entries:
                for key, s in e["numbers"].items():
                    if s == slot:
                        value = (p.detach() * self.scales[slot]).cpu().tolist()
                        out.append((e["entry"], key, value))
        return out  # type: ignore[return-value]
