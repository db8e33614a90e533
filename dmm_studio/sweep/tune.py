"""A training sweep on Ray Tune (``"tune"`` in the spec): each point is a trial
that reports its loss after every training step, and a scheduler (ASHA by
default) stops the trials whose loss lags (their row's status is ``stopped``).

Ray is imported here only, and only when a sweep runs on it
(``pip install 'dmm-studio[distributed]'``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ._ray import ray_session


def _trial(config: dict[str, Any], tasks: dict[int, dict[str, Any]], run_point: Callable[..., Any]) -> None:
    """One Tune trial: train the point ``config["run"]`` with ``run_point``, reporting each training step."""
    from ray import tune

    task = tasks[config["run"]]

    def report(r: Any) -> None:
        tune.report({"loss": float(r.loss), "links": int(r.links), "step": int(r.step)})

    row = run_point(task, report)
    if row["status"] != "ok":  # the run's own fault: the trial's error, told on the driver
        raise RuntimeError(f"{row['status']}: {row.get('error') or ''}")


def tune_rows(
    sweep: Any,
    pending: list[int],
    address: str | None,
    num_cpus: int | None,
    run_point: Callable[..., dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """Run the pending training points as Ray Tune trials; their rows once Tune
    is done (``loss``, ``loss_min``, ``links``, ``loss_curve`` from the reports;
    ``status`` ``stopped`` when the scheduler ended a run before its last step)."""
    import os

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no experiment tables on stdout
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    spec = sweep.spec
    conf = spec.tune or {}
    with ray_session(address, num_cpus):
        tasks = {i: t for i, t in zip(pending, sweep.tasks(pending), strict=True)}
        planned = {i: int(t["train"]["steps"]) for i, t in tasks.items()}
        if conf.get("scheduler", "asha") == "asha":
            scheduler: Any = ASHAScheduler(
                time_attr="training_iteration",
                metric="loss",
                mode="min",
                max_t=max(planned.values()),
                grace_period=conf.get("grace_period", 1),
                reduction_factor=conf.get("reduction_factor", 4),
            )
            tune_config = tune.TuneConfig(scheduler=scheduler)
        else:
            tune_config = tune.TuneConfig(metric="loss", mode="min")
        if conf.get("max_concurrent"):
            tune_config.max_concurrent_trials = conf["max_concurrent"]
        tuner = tune.Tuner(
            tune.with_resources(tune.with_parameters(_trial, tasks=tasks, run_point=run_point), {"cpu": 1}),
            param_space={"run": tune.grid_search(pending)},
            tune_config=tune_config,
            run_config=tune.RunConfig(
                name="tune", storage_path=str(Path(sweep.out).resolve()), verbose=0
            ),
        )
        for result in tuner.fit():
            run = result.config["run"]
            task = tasks[run]
            row: dict[str, Any] = dict.fromkeys(task["columns"])
            row.update(task["point"], run=run)
            df = result.metrics_dataframe
            losses = [float(x) for x in df["loss"]] if df is not None and "loss" in df else []
            if losses:
                every = max(1, int(task.get("curve_every") or 1))
                curve = losses[::every]
                if (len(losses) - 1) % every:
                    curve.append(losses[-1])
                row.update(
                    loss=losses[-1],
                    loss_min=min(losses),
                    loss_curve=curve,
                    links=int(df["links"].iloc[-1]),
                    wall_s=round(float(df["time_total_s"].iloc[-1]), 6) if "time_total_s" in df else None,
                )
            row["steps"] = len(losses)
            if result.error is not None:
                text = str(result.error).strip().splitlines()
                row.update(status="error", error=text[-1] if text else type(result.error).__name__)
            elif len(losses) < planned[run]:
                row.update(
                    status="stopped",
                    error=f"the {conf.get('scheduler', 'asha')} scheduler stopped it after "
                    f"{len(losses)} of {planned[run]} training steps",
                )
            else:
                row["status"] = "ok"
            yield row
