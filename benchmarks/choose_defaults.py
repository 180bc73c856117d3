"""The measurement behind LMUMemory's defaults (layout, synapse, realization).

Order 6, theta 1 s, 3,000 neurons, 1 Hz band-limited input, 6 s simulated: NRMSE
of the decoded memory against the exact one (`nengo_lmu.analysis.measure_memory`)
over several seeds, for each layout, synapse time constant and realization, with
LIF and Poisson neurons. The defaults are the best rows that need no tuning.

Usage::

    python benchmarks/choose_defaults.py            # about 4 minutes on 2 cores
    python benchmarks/choose_defaults.py --seeds 2
"""

import argparse
import time

import nengo
import numpy as np

from nengo_lmu.analysis import measure_memory


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--neurons", type=int, default=3000)
    parser.add_argument("--duration", type=float, default=6.0)
    args = parser.parse_args()
    neuron_types = {
        "lif": nengo.LIF(),
        "poisson": nengo.PoissonSpiking(nengo.LIFRate()),
    }
    rows = [
        ("ensemble", 0.1, "legendre"),
        ("per-dimension", 0.02, "legendre"),
        ("per-dimension", 0.05, "legendre"),
        ("per-dimension", 0.1, "legendre"),
        ("per-dimension", 0.2, "legendre"),
        ("per-dimension", 0.1, "balanced"),
        ("subpopulations", 0.1, "legendre"),
    ]
    print(
        f"order 6, theta 1 s, {args.neurons} neurons, {args.seeds} seeds, "
        f"{args.duration} s: NRMSE mean [min, max] over seeds"
    )
    print(
        f"{'layout':<16}{'synapse':>8}  {'realization':<12}{'lif':>24}{'poisson':>24}"
    )
    t0 = time.perf_counter()
    for layout, synapse, realization in rows:
        cells = []
        for neuron_type in neuron_types.values():
            errors = [
                measure_memory(
                    6,
                    1.0,
                    args.neurons,
                    neuron_type=neuron_type,
                    seed=seed,
                    duration=args.duration,
                    layout=layout,
                    synapse=synapse,
                    realizer=realization,
                )["nrmse"]
                for seed in range(args.seeds)
            ]
            cells.append(
                f"{np.mean(errors):.3f} [{np.min(errors):.3f}, {np.max(errors):.3f}]"
            )
        print(
            f"{layout:<16}{synapse:>8}  {realization:<12}{cells[0]:>24}{cells[1]:>24}",
            flush=True,
        )
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
