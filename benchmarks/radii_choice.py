"""The default radii: computed from the input's spectrum against measured peaks.

``radii="auto"`` scales each state of an `LMUMemory` by three standard deviations
of that state for the input process, computed from the process's spectrum
(`nengo_lmu.systems.spectral_radii`); ``radii="measured"`` by the largest value
the state reaches on five draws of the process (`measure_radii`). This prints the
memory's NRMSE (`nengo_lmu.analysis.experiments.measure_memory`, its default
input and duration) with both, for LIF and Poisson LIF neurons, mean over seeds.

Usage::

    python benchmarks/radii_choice.py             # 3 seeds, about 4 minutes
    python benchmarks/radii_choice.py --seeds 1
"""

import argparse
import time

import nengo
import numpy as np

from nengo_lmu.analysis.experiments import measure_memory

# (order, theta, neurons): the defaults' order and window, a longer memory, a
# small one; per-dimension below 1,000 neurons per state, sub-populations above
CASES = [(6, 0.1, 1200), (6, 0.1, 12000), (12, 0.5, 6000), (3, 0.1, 600)]
NEURON_TYPES = {
    "LIF": nengo.LIF,
    "Poisson LIF": lambda: nengo.PoissonSpiking(nengo.LIFRate()),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print(f"NRMSE of the decoded memory, mean [min, max] over {args.seeds} seeds")
    print(
        f"{'neurons':<12} {'order':>5} {'theta':>6} {'m':>6}  {'auto':>22}  "
        f"{'measured':>22}  auto / measured"
    )
    for name, make in NEURON_TYPES.items():
        for order, theta, m in CASES:
            row = {}
            for radii in ("auto", "measured"):
                errors = [
                    measure_memory(
                        order, theta, m, neuron_type=make(), seed=seed, radii=radii
                    )["nrmse"]
                    for seed in range(args.seeds)
                ]
                row[radii] = errors
            cells = [
                f"{np.mean(e):.4f} [{np.min(e):.4f}, {np.max(e):.4f}]"
                for e in row.values()
            ]
            ratio = np.mean(row["auto"]) / np.mean(row["measured"])
            print(
                f"{name:<12} {order:>5} {theta:>6} {m:>6}  {cells[0]:>22}  "
                f"{cells[1]:>22}  {ratio:.2f}",
                flush=True,
            )
    print(f"wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
