"""Training in the engine host: ``dmm_studio.learn.train`` run by the host's
serve loop, its reports streamed to the studio (no Qt here).

The studio sends ``("train", network, task, options)``: ``network`` a copy
of the design, ``task`` the path of a ``*.train.json`` (loaded here, in the
engine's process: the studio's process never imports torch) or a
``TrainTask``; ``options`` ``{"steps", "device", "seed"}`` (None: the
task's). While it trains, ``("train_pause",)``, ``("train_resume",)`` and
``("train_stop",)`` steer it; every other command is handled as usual
between two training steps (a run of the machine waits until training ends:
``train`` pauses it first). Pausing blocks inside ``train``'s ``on_step``
callback, reading commands until resume or stop.

The host answers ``("train", (event, payload))``:

``("started", {"task": str, "steps": int | None, "links": int})``
    The task loaded; ``steps`` the training steps asked for (or the task's),
    ``links`` the non-zero weights of the network given.
``("reports", [report, ...])``
    The step reports since the last message (each ``{"step", "loss",
    "terms", "links", "pruned", "elapsed_s"}``: losses as floats, ``terms``
    ``{name: float}``, ``elapsed_s`` seconds since training began), at most
    ``REPORT_HZ`` messages a second; every step is reported.
``("weights", {"step": int, "matrix": W})``
    The trained network's ``W_0`` as it is at that step (pruned links gone),
    at most ``WEIGHTS_HZ`` times a second, and at pause and at the end.
``("paused", step)`` / ``("resumed", step)``
``("done", {"network": Network, "steps": int, "stopped": bool, "elapsed_s": float})``
    Training ended (``stopped``: by ``train_stop``); ``network`` the trained one.
``("failed", str)``
    One line: a task file that is refused (``TaskError``), or a fault while
    training. Nothing of the design changed.
"""

from __future__ import annotations

import time
from typing import Any

from .protocol import loads

REPORT_HZ = 20.0  # loss reports: at most this many messages a second
WEIGHTS_HZ = 4.0  # the weights (the canvas redraws each): at most this many a second
STEER = frozenset({"train_pause", "train_resume", "train_stop"})


def _report(r: Any) -> dict[str, Any]:
    return {
        "step": int(r.step),
        "loss": float(r.loss),
        "terms": {str(k): float(v) for k, v in dict(r.terms).items()},
        "links": int(r.links),
        "pruned": int(r.pruned),
        "elapsed_s": float(r.elapsed_s),
    }


def _links(net: Any) -> int:
    return sum(1 for _to, _frm, w in net.wires() if w)


class Training:
    """One training run inside ``host`` (a ``child.Host``); see the module docstring."""

    def __init__(self, host: Any, network: Any, task: Any, options: dict[str, Any]) -> None:
        self.host = host
        self.network = network
        self.task = task
        self.options = dict(options or {})
        self.paused = False
        self.stopping = False
        self.step = 0
        self._pending: list[dict[str, Any]] = []
        self._next_report = 0.0
        self._next_weights = 0.0
        self._last: Any = None  # the last StepReport
        self.after: list[Any] = []  # commands to handle once this training has ended

    def send(self, event: str, payload: Any = None) -> None:
        self.host.send("train", (event, payload))

    def run(self) -> None:
        from ..learn import TaskError, TrainTask, train

        task = self.task
        try:
            if isinstance(task, str):
                task = TrainTask.load(task)
        except TaskError as e:
            self.send("failed", str(e))
            return
        where = self.task if isinstance(self.task, str) else "(a task given in code)"
        steps = self.options.get("steps")
        steps = getattr(task, "steps", None) if steps is None else steps
        self.send("started", {"task": where, "steps": steps, "links": _links(self.network)})
        t0 = time.perf_counter()
        try:
            result = train(
                self.network,
                task,
                steps=self.options.get("steps"),
                device=self.options.get("device") or "cpu",
                seed=self.options.get("seed"),
                on_step=self.on_step,
            )
        except (EOFError, OSError, BrokenPipeError):
            raise  # the studio went away: the serve loop ends
        except TaskError as e:  # the task does not fit the network: its own line
            self._flush()
            self.send("failed", str(e))
            return
        except Exception as e:  # one line for the panel; the host goes on serving
            self._flush()
            self.send("failed", _one_line(e))
            return
        self._flush()
        net = result.network
        self.send("weights", {"step": self.step, "matrix": net.matrix})
        self.send(
            "done",
            {
                "network": net,
                "steps": self.step,
                "stopped": self.stopping,
                "elapsed_s": time.perf_counter() - t0,
            },
        )

    # -- inside train(): after every step
    def on_step(self, r: Any) -> bool:
        self._last = r
        self.step = int(r.step)
        self._pending.append(_report(r))
        now = time.perf_counter()
        if now >= self._next_report:
            self._flush()
            self._next_report = now + 1.0 / REPORT_HZ
        if now >= self._next_weights:
            self._weights()
            self._next_weights = now + 1.0 / WEIGHTS_HZ
        self._poll(block=False)
        if self.paused and not self.stopping:
            self._flush()
            self._weights()
            self.send("paused", self.step)
            while self.paused and not self.stopping:
                self._poll(block=True)
            if not self.stopping:
                self.send("resumed", self.step)
        return not self.stopping

    def _flush(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self.send("reports", batch)

    def _weights(self) -> None:
        if self._last is not None:
            self.send("weights", {"step": self.step, "matrix": self._last.network().matrix})

    def _poll(self, block: bool) -> None:
        """Handle the commands waiting (``block``: wait for one first)."""
        conn = self.host.conn
        while block or conn.poll(0):
            block = False
            msg = loads(conn.recv_bytes())
            name = msg[0]
            if name == "train_pause":
                self.paused = True
            elif name == "train_resume":
                self.paused = False
            elif name == "train_stop":
                self.stopping = True
            elif name == "train" and self.stopping:
                self.after.append(msg)  # the next training: once this one has ended
            else:  # the host's own commands; quit and renew end the training
                self.host.handle(msg)
                if self.host.quit:
                    self.stopping = True


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
