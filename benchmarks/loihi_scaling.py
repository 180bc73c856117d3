"""Error against neuron count on the Loihi emulator, beside the CPU reference.

The thesis delay network (`nengo_lmu.analysis.measure_delay_trial`: order 3, theta
0.1 s, 3 Hz input, 20 ms readout filter) with n neurons, for nengo.Simulator and
nengo_loihi's emulator (standard and chip-wired, see `nengo_lmu.loihi`), mean
NRMSE over seeds; prints the table and writes benchmarks/results/loihi/scaling.png
and scaling.csv.

Usage::

    python benchmarks/loihi_scaling.py             # about 8 minutes on 2 cores
"""

import argparse
import csv
import os
import warnings

import numpy as np

from nengo_lmu.analysis import measure_delay_trial

VARIANTS = [
    ("reference", "nengo", "standard"),
    ("emulator, standard", "nengo_loihi", "standard"),
    ("emulator, chip-wired", "nengo_loihi", "chip"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", default="128,256,384,768,1536")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "results", "loihi")
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    neurons = [int(n) for n in args.neurons.split(",")]
    os.makedirs(args.out, exist_ok=True)
    rows = []
    print(f"{'neurons':>8}" + "".join(f"{name:>24}" for name, _, _ in VARIANTS))
    for n in neurons:
        line = f"{n:>8}"
        for name, simulator, variant in VARIANTS:
            errors = [
                measure_delay_trial(
                    seed=s,
                    simulator=simulator,
                    variant=variant,
                    n_neurons=n,
                    duration=args.duration,
                )["nrmse"]
                for s in range(args.seeds)
            ]
            rows.append(
                {
                    "variant": name,
                    "n_neurons": n,
                    "nrmse": np.mean(errors),
                    "nrmse_min": np.min(errors),
                    "nrmse_max": np.max(errors),
                }
            )
            line += f"{np.mean(errors):>24.3f}"
        print(line, flush=True)
    with open(os.path.join(args.out, "scaling.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, _, _ in VARIANTS:
        rs = [r for r in rows if r["variant"] == name]
        ax.loglog(
            [r["n_neurons"] for r in rs], [r["nrmse"] for r in rs], "o-", label=name
        )
    m = np.array(neurons, dtype=float)
    first = [r for r in rows if r["variant"] == "reference"][0]
    ax.loglog(
        m, first["nrmse"] * np.sqrt(m[0] / m), "k:", lw=1, label=r"$\propto 1/\sqrt{m}$"
    )
    ax.axhspan(0.145, 0.151, color="0.85", label="thesis emulator [0.145, 0.151]")
    ax.set_xlabel("neurons m")
    ax.set_ylabel("NRMSE of the delayed output")
    ax.set_title("Delay network (order 3, theta 0.1 s): CPU vs Loihi emulator")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "scaling.png"), dpi=120)
    print(f"wrote {args.out}/scaling.png and scaling.csv")


if __name__ == "__main__":
    main()
