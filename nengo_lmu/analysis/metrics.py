"""Error measures and statistics: RMSE, NRMSE, bootstrap intervals, fits."""

import numpy as np


def rmse(y, target):
    """Root-mean-square error over all samples and dimensions."""
    return float(np.sqrt(np.mean((np.asarray(y) - np.asarray(target)) ** 2)))


def nrmse(y, target):
    """RMSE normalized by the RMS of ``target`` (0 = perfect, 1 = as bad as 0)."""
    return rmse(y, target) / float(np.sqrt(np.mean(np.asarray(target) ** 2)))


def bootstrap_interval(values, n_boot=2000, rng=None):
    """Mean of ``values`` and a bootstrap 95 % interval of that mean (the same
    for the same values in any order)."""
    values = np.sort(np.asarray(values, dtype=float))
    rng = np.random.RandomState(0) if rng is None else rng
    means = values[rng.randint(len(values), size=(n_boot, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(values.mean()), float(low), float(high)


def fit_scaling(n_neurons, errors, n_boot=1000, rng=None):
    """Log-log slope of error against neuron count, with a bootstrap 95 % interval.

    ``errors`` holds one value per run (one per seed at each m). The slope is the
    least-squares fit of ``log(mean error at m)`` against ``log(m)``; the interval
    resamples the runs at each m (with replacement, independently) ``n_boot``
    times. The result does not depend on the order of the runs (a sweep writes
    them as they finish).

    Returns
    -------
    slope, low, high : float
    """
    n_neurons = np.asarray(n_neurons, dtype=float)
    errors = np.asarray(errors, dtype=float)
    ms = np.unique(n_neurons)
    if len(ms) < 2:
        return float("nan"), float("nan"), float("nan")
    groups = [np.sort(errors[n_neurons == m]) for m in ms]
    x = np.log(ms)

    def slope(values):
        return np.polyfit(x, np.log([np.mean(v) for v in values]), 1)[0]

    rng = np.random.RandomState(0) if rng is None else rng
    boot = [
        slope([g[rng.randint(len(g), size=len(g))] for g in groups])
        for _ in range(n_boot)
    ]
    low, high = np.percentile(boot, [2.5, 97.5])
    return float(slope(groups)), float(low), float(high)
