"""What a sweep computes from a run's series of scalar outputs.

``synchrony`` is the measure of Golomb and Rinzel (1993), used for neural
populations ever since (Hansel and Sompolinsky; Golomb, Scholarpedia
"Neuronal synchrony measures"): for units ``x_i(t)``, ``i = 1..N``, and their
mean ``X(t)``,

    chi^2 = Var_t(X) / mean_i Var_t(x_i)

1 when every unit does the same (lockstep), about ``1/N`` when they are
independent, 0 when they cancel out exactly. Units that never vary (all
variances 0) count as in lockstep: 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

KINDS = ("synchrony", "mean", "std", "min", "max", "last")


def synchrony(series: Sequence[Sequence[float]]) -> float:
    """chi^2 of ``series`` (one list of floats per unit, equal lengths); NaN for no steps."""
    import numpy as np

    x = np.asarray(series, dtype=float)
    if x.ndim != 2 or x.shape[1] == 0:
        return math.nan
    each = x.var(axis=1).mean()
    if each == 0:
        return 1.0
    return float(x.mean(axis=0).var() / each)


def metric_value(kind: str, series: Sequence[Sequence[float]]) -> float:
    """The metric ``kind`` (one of ``KINDS``) over the series (the first unit's
    for all but synchrony). Raises ValueError for an unknown kind."""
    import numpy as np

    if kind == "synchrony":
        return synchrony(series)
    x = np.asarray(series[0], dtype=float)
    if x.size == 0:
        return math.nan
    if kind == "mean":
        return float(x.mean())
    if kind == "std":
        return float(x.std())
    if kind == "min":
        return float(x.min())
    if kind == "max":
        return float(x.max())
    if kind == "last":
        return float(x[-1])
    raise ValueError(f"unknown metric kind {kind!r} (one of {', '.join(KINDS)})")
