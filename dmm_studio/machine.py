"""A network running on an engine: the API for notebooks, the CLI and the studio.

>>> import dmm_studio as dmm
>>> m = dmm.load("examples/counter.dmm.json").machine()
>>> m.step(3)
>>> m.output("accum", "count", "single")
{':number': 3}
>>> m.set_weight(("accum", "count", "delta"), ("identity", "one", "single"), 2)
>>> m.snapshot().save("counter-now.dmm.json")
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import vvalue as vv
from .datafiles import file_access
from .designcheck import EditError, check_delta, check_name, check_output, check_param, check_weights
from .engine import Engine, NetworkHalted, StepError, make_engine
from .limits import LimitCheck, LimitExceeded, Limits
from .matrix import (
    MATRIX_OUTPUT,
    SELF_ID,
    SELF_NAME,
    SELF_TYPE,
    NeuronId,
    Port,
    State,
    matrix_neurons,
    rename_references,
)
from .network import Network
from .nonfinite import NonFiniteValue, NonFiniteWatch
from .registry import Registry, default_registry


class Machine:
    """A running copy of a ``Network``: the design stays as it was.

    Data files that neurons read (``data.text_reader``'s ``path``) are
    resolved against the folder of the file the network was loaded from (the
    current directory for a network built in code); a path that leads
    outside that folder is a step error unless ``allow_outside_files`` is
    true (an attribute too: the studio sets it after asking the user).
    """

    def __init__(
        self,
        network: Network,
        engine: str | None = None,
        registry: Registry | None = None,
        *,
        allow_outside_files: bool = False,
        limits: Limits | None = None,
        **engine_kwargs: Any,
    ) -> None:
        self.network = network
        self.folder = Path(network.source).parent if network.source else Path.cwd()
        self.allow_outside_files = allow_outside_files or network.allow_outside_files
        # the network's bounds (its file's "limits" over the defaults) unless given
        self.limits = limits if limits is not None else Limits.from_dict(network.limits)
        self._bounds: LimitCheck | None = None
        self._nonfinite = NonFiniteWatch()  # kept: it skips outputs it saw unchanged
        self.engine_name = engine
        self.registry = registry
        self.engine_kwargs = engine_kwargs
        # muted and bypassed neurons (dmm_studio.modes), the design's to start with
        self.modes: dict[NeuronId, str] = network.modes()
        # params set for one step each (set_param_once): {(type, name, param): [values]}
        self._once: dict[tuple[str, str, str], list[Any]] = {}
        self.engine: Engine = self._make(network)

    def _make(self, network: Network) -> Engine:
        return make_engine(
            self.engine_name,
            network.outputs,
            params=network.params,
            fields=network.fields,
            layout=network.layout,
            registry=self.registry,
            **self.engine_kwargs,
        )

    # ------------------------------------------------------------- running
    @property
    def t(self) -> int:
        return self.engine.t

    def step(self, n: int = 1, on_step: Callable[[int], None] | None = None) -> None:
        """Advance ``n`` steps (NetworkHalted / StepError stop it early).

        Any other failure inside an engine is reported as a StepError too, so
        callers (the CLI, the studio) have one kind of run-time fault to name.
        """
        with file_access(self.folder, self.allow_outside_files):
            for _ in range(n):
                self._check_limits()
                try:
                    once = self._take_once()
                    try:
                        if self.modes:
                            from .modes import step_with_modes

                            step_with_modes(self.engine, self.modes, self._reg())
                        else:
                            self.engine.step()
                    finally:
                        for (f, nm, p), rest in once.items():
                            self.engine.set_param(f, nm, p, rest)
                except (NetworkHalted, StepError):
                    raise
                except MemoryError:
                    raise StepError(
                        self.engine.t + 1, "out of memory (the limits in docs/semantics.md bound a network)"
                    ) from None
                except Exception as e:
                    raise StepError(self.engine.t + 1, f"{type(e).__name__}: {e}") from e
                if on_step is not None:
                    on_step(self.engine.t)

    def _check_limits(self) -> None:
        """Refuse the next step when it would cross a bound (``dmm_studio.limits``)."""
        if (
            self._bounds is None
            or self._bounds.limits != self.limits
            or self._bounds.engine is not self.engine
        ):
            self._bounds = LimitCheck(self.limits)
            self._bounds.engine = self.engine
        try:
            self._bounds.check(self.engine)
        except LimitExceeded as e:
            raise StepError(
                self.engine.t + 1,
                f"{e}; the step was not taken (the state is step {self.engine.t}'s)",
                e.neuron,
            ) from None

    def set_limits(self, limits: dict[str, Any] | None) -> None:
        """Run under other bounds from the next step on (a file's ``"limits"``
        object: missing keys take the defaults). Raises ValueError naming a
        bad key or value, before changing anything."""
        self.limits = Limits.from_dict(limits or {})

    def _edited(self) -> None:
        if self._bounds is not None:
            self._bounds.forget()

    def reset(self) -> None:
        """Back to ``y_0`` of the design, at t = 0 (its modes too; values set
        for one step that were not used are dropped)."""
        self.modes = self.network.modes()
        self._once.clear()
        self.engine = self._make(self.network)

    def _take_once(self) -> dict[tuple[str, str, str], Any]:
        """Set the next value of each param set for one step; ``{key: value to restore}``."""
        rest: dict[tuple[str, str, str], Any] = {}
        for key in list(self._once):
            queue = self._once[key]
            f, n, p = key
            ntype = self._reg().get(f)
            rest[key] = self.engine.params.get(f, {}).get(n, {}).get(p, ntype.params.get(p))
            self.engine.set_param(f, n, p, queue.pop(0))
            if not queue:
                del self._once[key]
        return rest

    # ------------------------------------------------------------- reading
    @property
    def state(self) -> State:
        return self.engine.state()

    @property
    def matrix(self) -> vv.VValue:
        return self.engine.matrix()

    def output(self, type: str, name: str, output: str) -> vv.VValue:
        return self.engine.output(type, name, output)

    def active(self) -> list[NeuronId]:
        return list(matrix_neurons(self.matrix))

    def stats(self) -> dict[str, int]:
        return self.engine.stats()

    def non_finite(self) -> NonFiniteValue | None:
        """The first NaN or infinity in ``y_t``, naming the neuron, the output
        and the path inside the V-value (None: every number is finite). Cheap
        when the engine can tell (``Engine.all_finite``), else a walk of the
        state like the studio's NaN/Inf break."""
        if self.engine.all_finite():
            return None
        return self._nonfinite.check(self.t, self.engine.state_view())

    # ------------------------------------------------------------- editing the running state
    # Every edit refuses, before changing anything, what the loader would
    # refuse in a snapshot's file (dmm_studio.designcheck): EditError, a
    # NetworkFileError (so a ValueError), one line naming the edit and what
    # is wrong.
    def _reg(self) -> Registry:
        return self.registry or self.network.registry or default_registry()

    def set_output(self, type: str, name: str, output: str, value: Any) -> None:
        """Replace one output of ``y_t`` (what the next step reads). Raises
        EditError for an unknown type or a value no file holds."""
        self._put(type, name, output, check_output(self._reg(), type, name, output, value))

    def _put(self, type: str, name: str, output: str, value: vv.VValue) -> None:
        state = self.engine.state()
        outs = state.setdefault(type, {}).setdefault(name, {})
        outs[output] = value
        self.engine.set_state(state)
        self._edited()

    def edit_matrix(self, delta: Any) -> None:
        """Add ``delta`` to ``W_t``, as if it had reached Self's delta input.
        Raises EditError for a delta no file holds or sums that overflow."""
        check_delta(self._reg(), self.matrix, delta)
        self.engine.edit_matrix(delta)
        self._edited()

    def set_weight(self, to: Port, frm: Port, weight: float) -> None:
        """Set one weight of ``W_t`` to exactly ``weight`` (0 removes it).

        (``edit_matrix`` adds a delta instead, the DMM way, which the compiled
        engine applies incrementally; an exact set replaces the state.)
        """
        check_weights(self._reg(), [(to, frm, weight)])  # the rest of W_t is as the run made it
        self._put(SELF_TYPE, SELF_NAME, MATRIX_OUTPUT, vv.set_in(self.matrix, to + frm, weight))

    def edit_weight(self, to: Port, frm: Port, weight: float) -> None:
        """Make one weight of ``W_t`` exactly ``weight`` by a delta through Self
        (``W_t += weight - W_t[to][frm]``): the studio's live edits, which the
        compiled engine applies incrementally."""
        check_weights(self._reg(), [(to, frm, weight)])
        old = vv.get_in(self.matrix, tuple(to) + tuple(frm))
        old = old if vv.is_number(old) else 0
        if weight - old:
            self.edit_matrix(vv.set_in({}, tuple(to) + tuple(frm), weight - old))

    def set_param(self, type: str, name: str, param: str, value: Any) -> None:
        """Set a param of the running network. Raises EditError for an unknown
        type, an undeclared param, or a value that is not finite JSON data."""
        self.engine.set_param(type, name, param, check_param(self._reg(), type, name, param, value))

    def set_param_once(self, type: str, name: str, param: str, value: Any) -> None:
        """Set a param for one step only, then back to what it was: a pulse
        (a live button's press, an XY pad's click). Values set faster than
        steps are taken wait their turn, one a step, in order. Raises
        EditError as ``set_param`` does."""
        value = check_param(self._reg(), type, name, param, value)
        self._once.setdefault((type, name, param), []).append(value)

    def set_mode(self, type: str, name: str, mode: str | None) -> None:
        """Mute (``"mute"``), bypass (``"bypass"``) or restore (None) a neuron
        from the next step on (``dmm_studio.modes``; the design is not
        changed). Raises ValueError for Self or another mode."""
        from .network import NEURON_MODES

        if mode is not None and mode not in NEURON_MODES:
            raise ValueError(f"a neuron's mode is 'mute', 'bypass' or None, not {mode!r}")
        if (type, name) == SELF_ID:
            raise ValueError("Self cannot be muted or bypassed: it holds the network matrix")
        if mode is None:
            self.modes.pop((type, name), None)
        else:
            self.modes[(type, name)] = mode

    def set_fields(self, fields: list[Any]) -> None:
        """Replace the modulating fields from the next step on. Raises EditError
        for a list the loader refuses (naming the field)."""
        from .fields import field_problem

        found = field_problem(list(fields))
        if found is not None:
            raise EditError("set the fields", found[0], ("fields", *found[1]))
        self.engine.fields = list(fields)

    def remove_neuron(self, nid: NeuronId) -> None:
        """Take a neuron out of the running state: its outputs, rows and columns
        (Self stays)."""
        if tuple(nid) == SELF_ID:
            return
        tmp = Network(outputs=self.state, registry=self._reg())
        tmp.remove_neuron(*nid)
        self.engine.set_state(tmp.outputs)
        self.modes.pop(tuple(nid), None)  # type: ignore[arg-type]

    def rename_neuron(self, type: str, old: str, new: str) -> None:
        """Rename a neuron in the running state (its outputs, its place in W, its params)."""
        tmp = Network(outputs=self.state, registry=self._reg())
        if old != new:
            check_name(tmp.registry, type, new)
        if tmp.has_neuron(type, old) and not tmp.has_neuron(type, new):
            tmp.rename_neuron(type, old, new)  # references in matrix fragments too
            self.engine.set_state(tmp.outputs)
            p = self.engine.params.get(type, {})
            if old in p:
                p[new] = p.pop(old)
            for names in self.engine.params.values():  # fragments and "type/name/port" params
                for ps in names.values():
                    for k, v in ps.items():
                        ps[k] = rename_references(v, type, old, new)
            if (type, old) in self.modes:
                self.modes[(type, new)] = self.modes.pop((type, old))

    def snapshot(self) -> Network:
        """The running state as a new design (params, fields, layout kept)."""
        net = self.network.copy()
        net.outputs = self.state
        for key, entry in list(net.layout.items()):  # the modes as they are now
            if isinstance(entry, dict) and "mode" in entry:
                del entry["mode"]
                if not entry:
                    del net.layout[key]
        for (f, n), mode in self.modes.items():
            net.layout.setdefault(f"{f}/{n}", {})["mode"] = mode
        net.params = {f: {n: dict(p) for n, p in ns.items()} for f, ns in self.engine.params.items()}
        return net
