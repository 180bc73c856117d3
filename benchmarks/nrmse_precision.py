"""How long a run must be for its NRMSE to be accurate to 10 %.

The scaling runs estimate a memory's NRMSE from a finite simulation; at large m
the error is small and made of spike noise filtered by the memory, so a short run
gives a noisy estimate. For each (order, m), one long run of the Poisson-spiking
LMU memory (the ``large`` preset's network: theta 0.5 s, its default input) is cut
into consecutive windows of length T after the warm-up; the NRMSE of each window
is compared with that of the whole run. The relative spread (the windows' rms
deviation over the whole run's NRMSE) is fitted as ``c T^b`` over the window
lengths (``b = -1/2`` if the error were independent from moment to moment) and
the length at which it reaches 10 % read from the fit. Results go to
``benchmarks/results/large/precision.json`` as each run ends (a rerun skips the
runs already there).

Usage::

    python benchmarks/nrmse_precision.py
    python benchmarks/nrmse_precision.py --orders 6 --neurons 1e4 --duration 8
"""

import argparse
import os
import time

import numpy as np

from nengo_lmu._io import read_json, write_json_atomic
from nengo_lmu.analysis.experiments import make_neuron_type, measure_memory
from nengo_lmu.analysis.metrics import nrmse, rmse

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "large", "precision.json")
THETA = 0.5
WINDOWS = (0.25, 0.5, 1.0, 2.0, 4.0)
TARGET = 0.1  # relative accuracy of the NRMSE estimate


def spread(decoded, exact, dt, window, metric=nrmse):
    """The windows' ``metric`` (NRMSE): their relative rms deviation from the
    whole's, and how many windows of ``window`` seconds there were."""
    n = int(round(window / dt))
    k = decoded.shape[0] // n
    whole = metric(decoded[: k * n], exact[: k * n])
    parts = [
        metric(decoded[i * n : (i + 1) * n], exact[i * n : (i + 1) * n])
        for i in range(k)
    ]
    return float(np.sqrt(np.mean((np.asarray(parts) / whole - 1) ** 2))), k


def measure(order, m, duration, seed=0, dt=0.001):
    t0 = time.perf_counter()
    result = measure_memory(
        order,
        THETA,
        m,
        neuron_type=make_neuron_type("poisson"),
        seed=seed,
        duration=duration,
        dt=dt,
        warmup=THETA,
    )
    decoded, exact = result["compared"], result["target"]  # after the warm-up
    rows = []
    for window in WINDOWS:
        rel, k = spread(decoded, exact, dt, window)
        if k >= 4:
            # the error alone (RMSE): how much of the spread the signal's own
            # power in the window (NRMSE's denominator) adds
            rel_rmse, _ = spread(decoded, exact, dt, window, metric=rmse)
            rows.append(
                {
                    "window_s": window,
                    "windows": k,
                    "relative_spread": rel,
                    "relative_spread_rmse": rel_rmse,
                }
            )
    # spread ~ c T^b, fitted (least squares on the logs): b = -1/2 for
    # independent errors; slower where the error drifts over seconds
    b, a = np.polyfit(
        np.log([r["window_s"] for r in rows]),
        np.log([r["relative_spread"] for r in rows]),
        1,
    )
    return {
        "order": order,
        "n_neurons": m,
        "seed": seed,
        "duration_s": duration,
        "nrmse": result["nrmse"],
        "windows": rows,
        "spread_exponent": float(b),
        "seconds_for_10_percent": float(np.exp((np.log(TARGET) - a) / b)),
        "wall_s": time.perf_counter() - t0,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", default="1,6", help="comma-separated")
    parser.add_argument("--neurons", default="1e4,1e5,1e6", help="comma-separated m")
    parser.add_argument("--duration", type=float, default=16.5, help="s per run")
    parser.add_argument("--results", default=RESULTS)
    args = parser.parse_args(argv)
    results = read_json(args.results) if os.path.exists(args.results) else []
    done = {(r["order"], r["n_neurons"], r["duration_s"]) for r in results}
    for order in [int(x) for x in args.orders.split(",")]:
        for m in [int(float(x)) for x in args.neurons.split(",")]:
            if (order, m, args.duration) in done:
                continue
            results.append(measure(order, m, args.duration))
            write_json_atomic(args.results, results, indent=1)
    print(f"order {'m':>10} {'NRMSE':>8}  spread at T = {WINDOWS} s   b   T for 10 %")
    for r in results:
        spreads = {w["window_s"]: w["relative_spread"] for w in r["windows"]}
        rmse_spreads = {w["window_s"]: w["relative_spread_rmse"] for w in r["windows"]}
        text = " ".join(
            f"{spreads[w]:.3f}" if w in spreads else "  -  " for w in WINDOWS
        )
        print(
            f"{r['order']:>5} {r['n_neurons']:>10,} {r['nrmse']:>8.4f}  {text}"
            f"  {r['spread_exponent']:.2f}  {r['seconds_for_10_percent']:.3g} s"
        )
        text = " ".join(
            f"{rmse_spreads[w]:.3f}" if w in rmse_spreads else "  -  " for w in WINDOWS
        )
        print(f"{'':>5} {'':>10} {'(RMSE)':>8}  {text}")


if __name__ == "__main__":
    main()
