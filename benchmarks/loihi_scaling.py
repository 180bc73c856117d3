"""Error against neuron count on the Loihi emulator, beside the CPU reference.

The thesis' delay protocol (`nengo_lmu.analysis.delay.thesis_trial`: order 3,
theta 0.1 s, its 10 inputs of 2 s, 3 Hz, RMS 1, a new draw of neurons per
trial) with the LMU memory wired for each simulator
(`nengo_lmu.loihi.loihi_memory`: ``LMUMemory(wiring=LoihiWiring())`` on
nengo_loihi's emulator, the same network wired for Nengo on nengo.Simulator:
pools of at most 128 neurons per state, more neurons forming independent
copies), for m neurons. Trial k runs the same input and neuron seed on both
simulators.

Prints the mean of each metric (the thesis' and ours) per m with a bootstrap
95 % interval, and the log-log slope of the thesis metric over all m for both
simulators and their difference (emulator minus reference), each with a
bootstrap 95 % interval (trials resampled at each m, the same trials for both
simulators). Writes benchmarks/results/loihi/scaling_trials.csv (one row per
trial; a rerun skips the trials already there, so an interrupted run resumes),
scaling.json (the summary) and scaling.png.

Usage::

    python benchmarks/loihi_scaling.py     # 384..3072 neurons, 10 trials each
"""

import argparse
import os
import time
import warnings

import numpy as np

from nengo_lmu._io import append_csv_row, read_csv_rows, write_json_atomic
from nengo_lmu.analysis.delay import thesis_trial
from nengo_lmu.analysis.metrics import bootstrap_interval

VARIANTS = [
    ("reference", "nengo"),
    ("emulator", "nengo_loihi"),
]
FIELDS = ["simulator", "n_neurons", "trial", "thesis_nrmse", "nrmse", "wall_s"]
# Voelker (2019), 384 neurons, thesis metric: Loihi emulator [0.145, 0.151]
THESIS_EMULATOR = (0.145, 0.151)
# issue 12: the emulator's slope within 0.1 of the reference's
SLOPE_TOLERANCE = 0.1


def slopes(neurons, errors):
    """Least-squares slope of log(mean error) against log(neurons).

    ``errors`` is (n_boot, len(neurons)) or (len(neurons),) of mean errors."""
    x = np.log(np.asarray(neurons, dtype=float))
    y = np.log(np.atleast_2d(errors))
    x = x - x.mean()
    return (y - y.mean(axis=1, keepdims=True)) @ x / (x @ x)


def slope_intervals(neurons, values, n_boot=2000, seed=0):
    """Slopes per simulator and their difference, with bootstrap 95 % intervals.

    ``values[name][m]`` holds the thesis metric per trial (trial order, the
    same trials for every simulator): each resample draws trials at each m with
    replacement, the same draw for both simulators (trial k shares its input
    and neuron seed), so the difference's interval keeps that pairing."""
    rng = np.random.RandomState(seed)
    boot = {name: np.empty((n_boot, len(neurons))) for name in values}
    point = {}
    for k, m in enumerate(neurons):
        n_trials = min(len(values[name][m]) for name in values)
        picks = rng.randint(n_trials, size=(n_boot, n_trials))
        for name in values:
            v = np.asarray(values[name][m][:n_trials])
            boot[name][:, k] = v[picks].mean(axis=1)
    result = {}
    for name in values:
        means = [np.mean(values[name][m]) for m in neurons]
        point[name] = slopes(neurons, means)[0]
        low, high = np.percentile(slopes(neurons, boot[name]), [2.5, 97.5])
        result[name] = (float(point[name]), float(low), float(high))
    diff = slopes(neurons, boot["emulator"]) - slopes(neurons, boot["reference"])
    low, high = np.percentile(diff, [2.5, 97.5])
    result["difference"] = (
        float(point["emulator"] - point["reference"]),
        float(low),
        float(high),
    )
    return result


def read_trials(path):
    """The trials already in ``path``: {(simulator, n_neurons, trial): row}.

    A torn last line (a kill mid-write) is dropped with a warning and redone; a
    file with another header or a bad line before the last is refused."""
    converters = {"n_neurons": int, "trial": int}
    converters.update({k: float for k in ("thesis_nrmse", "nrmse", "wall_s")})
    return {
        (r["simulator"], r["n_neurons"], r["trial"]): r
        for r in read_csv_rows(path, FIELDS, converters)
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", default="384,768,1536,3072")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "results", "loihi")
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    neurons = [int(n) for n in args.neurons.split(",")]
    os.makedirs(args.out, exist_ok=True)
    trials_path = os.path.join(args.out, "scaling_trials.csv")
    done = read_trials(trials_path)
    for n in neurons:
        for k in range(args.trials):
            for name, simulator in VARIANTS:
                if (name, n, k) in done:
                    continue
                t0 = time.perf_counter()
                r = thesis_trial(k, "loihi", simulator, seed=args.seed, n_neurons=n)
                row = {
                    "simulator": name,
                    "n_neurons": n,
                    "trial": k,
                    "thesis_nrmse": r["thesis_nrmse"],
                    "nrmse": r["nrmse"],
                    "wall_s": time.perf_counter() - t0,
                }
                append_csv_row(trials_path, FIELDS, row)
                done[(name, n, k)] = row
                print(
                    f"{name:>9} {n:>5} neurons, trial {k:>2}: thesis "
                    f"{r['thesis_nrmse']:.4f}, ours {r['nrmse']:.4f} "
                    f"({row['wall_s']:.0f} s)",
                    flush=True,
                )

    values = {name: {} for name, _ in VARIANTS}
    summary = {"neurons": neurons, "trials": args.trials, "seed": args.seed, "by_m": []}
    print(
        f"\n{'neurons':>8}"
        + "".join(
            f"{name + ' thesis':>30}{'ours':>8}{'s/trial':>9}" for name, _ in VARIANTS
        )
    )
    for n in neurons:
        line = f"{n:>8}"
        for name, _ in VARIANTS:
            rows = [done[(name, n, k)] for k in range(args.trials)]
            thesis = [float(r["thesis_nrmse"]) for r in rows]
            ours = [float(r["nrmse"]) for r in rows]
            wall = float(np.mean([float(r["wall_s"]) for r in rows]))
            values[name][n] = thesis
            mean, low, high = bootstrap_interval(thesis)
            summary["by_m"].append(
                {
                    "simulator": name,
                    "n_neurons": n,
                    "thesis_nrmse": mean,
                    "thesis_nrmse_low": low,
                    "thesis_nrmse_high": high,
                    "nrmse": float(np.mean(ours)),
                    "wall_s_per_trial": wall,
                }
            )
            interval = f"{mean:>12.4f} [{low:.4f}, {high:.4f}]"
            line += f"{interval}{np.mean(ours):>8.4f}{wall:>9.1f}"
        print(line)
    fits = slope_intervals(neurons, values)
    summary["slopes"] = {
        name: dict(zip(("slope", "low", "high"), fit)) for name, fit in fits.items()
    }
    diff, low, high = fits["difference"]
    summary["target"] = {
        "tolerance": SLOPE_TOLERANCE,
        "met": abs(diff) <= SLOPE_TOLERANCE,
        "met_whole_interval": max(abs(low), abs(high)) <= SLOPE_TOLERANCE,
    }
    print(
        f"\nlog-log slope of the thesis metric, {neurons[0]} -> {neurons[-1]} neurons "
        f"(bootstrap 95 % intervals; 1 / sqrt(m) is -0.5):"
    )
    for name, (slope, low, high) in fits.items():
        print(f"  {name:>10}: {slope:+.3f} [{low:+.3f}, {high:+.3f}]")
    print(
        f"target |emulator - reference| <= {SLOPE_TOLERANCE}: "
        f"{'met' if summary['target']['met'] else 'not met'}"
        f"{' (whole interval)' if summary['target']['met_whole_interval'] else ''}"
    )
    write_json_atomic(os.path.join(args.out, "scaling.json"), summary, indent=1)

    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, _ in VARIANTS:
        rs = [r for r in summary["by_m"] if r["simulator"] == name]
        m = [r["n_neurons"] for r in rs]
        mean = np.array([r["thesis_nrmse"] for r in rs])
        err = [
            mean - [r["thesis_nrmse_low"] for r in rs],
            [r["thesis_nrmse_high"] for r in rs] - mean,
        ]
        slope, low, high = fits[name]
        ax.errorbar(
            m,
            mean,
            yerr=err,
            fmt="o-",
            capsize=3,
            label=f"{name} (slope {slope:+.2f} [{low:+.2f}, {high:+.2f}])",
        )
    m = np.array(neurons, dtype=float)
    first = summary["by_m"][0]["thesis_nrmse"]
    ax.plot(m, first * np.sqrt(m[0] / m), "k:", lw=1, label=r"$\propto 1/\sqrt{m}$")
    ax.axhspan(*THESIS_EMULATOR, color="0.85", label="thesis, emulator (384)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("neurons m")
    ax.set_ylabel("NRMSE (thesis metric)")
    ax.set_title("LMUMemory (order 3, theta 0.1 s): nengo vs Loihi emulator")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "scaling.png"), dpi=120)
    print(f"wrote {args.out}/scaling_trials.csv, scaling.json and scaling.png")


if __name__ == "__main__":
    main()
