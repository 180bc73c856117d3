"""Poisson error of large LMU memories: does it keep falling as 1/sqrt(m) to 10^6?

``measure_memory(6, 1.0, m, neuron_type=PoissonSpiking(LIFRate()), duration=2,
warmup=0.5)`` with LMUMemory's defaults (the automatic sub-population layout above
6,000 neurons), for m = 10^4, 10^5, 10^6: NRMSE of the decoded memory against the
exact one, and the ratio between successive m (1/sqrt(m) gives sqrt(10) = 3.16).

Usage::

    python benchmarks/scaling_error.py          # about 3 minutes on 2 cores
"""

import argparse

import nengo

from nengo_lmu.analysis import measure_memory


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", default="10000,100000,1000000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    previous = None
    print(f"{'m':>9}  {'layout':<16}{'NRMSE':>9}{'ratio':>8}")
    for m in [int(float(x)) for x in args.neurons.split(",")]:
        result = measure_memory(
            6,
            1.0,
            m,
            neuron_type=nengo.PoissonSpiking(nengo.LIFRate()),
            seed=args.seed,
            duration=2.0,
            warmup=0.5,
        )
        ratio = "" if previous is None else f"{previous / result['nrmse']:.2f}"
        print(
            f"{m:>9}  {result['layout']:<16}{result['nrmse']:>9.4f}{ratio:>8}",
            flush=True,
        )
        previous = result["nrmse"]


if __name__ == "__main__":
    main()
