"""Ray for a sweep's runs (the optional extra ``dmm-studio[distributed]``):
plain Ray tasks (``run._ray_rows``) and Ray Tune trials (``tune.tune_rows``)
share one way to find or start it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def ray_session(address: str | None, num_cpus: int | None) -> Iterator[None]:
    """Ray for a sweep's runs: the one already running, else one started here
    (``address`` to join a cluster, else ``num_cpus`` on this machine; no
    dashboard, no worker logs on the driver) and shut down when done."""
    import ray

    if ray.is_initialized():
        yield
        return
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "WARNING"}
    if address:
        kwargs["address"] = address
    elif num_cpus:
        kwargs["num_cpus"] = num_cpus
    ray.init(**kwargs)
    try:
        yield
    finally:
        ray.shutdown()
