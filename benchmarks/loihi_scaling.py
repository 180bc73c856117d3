"""Error against neuron count on the Loihi emulator, beside the CPU reference.

The thesis' delay protocol (`nengo_lmu.analysis.delay.thesis_trial`: order 3,
theta 0.1 s, its 10 inputs of 2 s, 3 Hz, RMS 1, a new draw of neurons per
trial) with the LMU memory wired for each simulator
(`nengo_lmu.loihi.loihi_memory`: ``LMUMemory(target="loihi")`` on
nengo_loihi's emulator, the same network wired for Nengo on nengo.Simulator),
for m neurons. Prints the mean of each metric (the thesis' and ours) per m, and
the log-log slope of the thesis metric from the smallest to the largest m for
both simulators (least squares over all m); writes
benchmarks/results/loihi/scaling.csv and scaling.png.

Usage::

    python benchmarks/loihi_scaling.py     # 384..3072 neurons, 10 trials each
"""

import argparse
import csv
import os
import time
import warnings

import numpy as np

from nengo_lmu.analysis.delay import thesis_trial

VARIANTS = [
    ("reference", "nengo"),
    ("emulator", "nengo_loihi"),
]
# Voelker (2019), 384 neurons, thesis metric: Loihi emulator [0.145, 0.151]
THESIS_EMULATOR = (0.145, 0.151)


def loglog_slope(neurons, errors):
    """Least-squares slope of log(error) against log(neurons)."""
    return float(np.polyfit(np.log(neurons), np.log(errors), 1)[0])


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
    rows = []
    print(
        f"{'neurons':>8}"
        + "".join(f"{name + ' thesis':>18}{'ours':>8}{'s':>6}" for name, _ in VARIANTS)
    )
    for n in neurons:
        line = f"{n:>8}"
        for name, simulator in VARIANTS:
            t0 = time.perf_counter()
            results = [
                thesis_trial(k, "loihi", simulator, seed=args.seed, n_neurons=n)
                for k in range(args.trials)
            ]
            wall = time.perf_counter() - t0
            thesis = [r["thesis_nrmse"] for r in results]
            ours = [r["nrmse"] for r in results]
            rows.append(
                {
                    "simulator": name,
                    "n_neurons": n,
                    "trials": args.trials,
                    "thesis_nrmse": np.mean(thesis),
                    "thesis_nrmse_std": np.std(thesis),
                    "nrmse": np.mean(ours),
                    "wall_s": wall,
                }
            )
            line += f"{np.mean(thesis):>18.4f}{np.mean(ours):>8.4f}{wall:>6.0f}"
        print(line, flush=True)
    slopes = {}
    for name, _ in VARIANTS:
        rs = [r for r in rows if r["simulator"] == name]
        slopes[name] = loglog_slope(
            [r["n_neurons"] for r in rs], [r["thesis_nrmse"] for r in rs]
        )
    print(
        f"log-log slope of the thesis metric, {neurons[0]} -> {neurons[-1]} neurons: "
        + ", ".join(f"{name} {slope:+.3f}" for name, slope in slopes.items())
        + f" (difference {slopes['emulator'] - slopes['reference']:+.3f}; "
        "1 / sqrt(m) is -0.5)"
    )
    with open(os.path.join(args.out, "scaling.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, _ in VARIANTS:
        rs = [r for r in rows if r["simulator"] == name]
        ax.loglog(
            [r["n_neurons"] for r in rs],
            [r["thesis_nrmse"] for r in rs],
            "o-",
            label=f"{name} (slope {slopes[name]:+.2f})",
        )
    m = np.array(neurons, dtype=float)
    first = [r for r in rows if r["simulator"] == "reference"][0]
    ax.loglog(
        m,
        first["thesis_nrmse"] * np.sqrt(m[0] / m),
        "k:",
        lw=1,
        label=r"$\propto 1/\sqrt{m}$",
    )
    ax.axhspan(*THESIS_EMULATOR, color="0.85", label="thesis, emulator (384)")
    ax.set_xlabel("neurons m")
    ax.set_ylabel("NRMSE (thesis metric)")
    ax.set_title("LMUMemory (order 3, theta 0.1 s): nengo vs Loihi emulator")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "scaling.png"), dpi=120)
    print(f"wrote {args.out}/scaling.png and scaling.csv")


if __name__ == "__main__":
    main()
