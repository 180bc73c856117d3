"""Build time, run time and peak memory of an LMU memory from 10^3 to 10^6 neurons.

For each m: ``nengo_lmu.networks.LMUMemory(6, 1.0, m,
neuron_type=PoissonSpiking(LIFRate()))`` with every other argument at its default
(the layout is chosen automatically), built and run for 1 s at dt = 1 ms, beside a
plain ``nengo.Ensemble(m, 6)`` decoded with Nengo's default solver (the baseline a
user would write), built and run the same way while it fits in memory. Every
measurement runs in a fresh process so that its peak RSS is its own.

Targets: m = 1,000,000 under 4 GB peak and under 2 minutes build
plus 1 s of simulation on 2 cores, build time growing about linearly in m.

Usage::

    python benchmarks/build_scaling.py                 # the full table
    python benchmarks/build_scaling.py --neurons 1000,10000
"""

import argparse
import json
import os
import time

from _child import peak_gb, run_child

# Plain nengo.Ensemble memory grows ~m^2: 10,000 neurons took 7.9 GB on a 2-core,
# 24 GB machine (nengo 4.1), 20,000 would not fit in 24 GB.
PLAIN_MAX_NEURONS = 10000


def measure(kind, m, seed=0):
    """Build and run one network in this process; return timings and peak RSS."""
    import nengo
    import numpy as np

    from nengo_lmu.networks import LMUMemory

    t0 = time.perf_counter()
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(nengo.processes.WhiteSignal(10.0, high=1.0, rms=0.5, y0=0))
        if kind == "lmu":
            memory = LMUMemory(
                6, 1.0, m, neuron_type=nengo.PoissonSpiking(nengo.LIFRate())
            )
            nengo.Connection(u, memory.input, synapse=None)
            probe = nengo.Probe(memory.output, synapse=0.01)
            layout = memory.layout
        else:
            ens = nengo.Ensemble(
                m, 6, neuron_type=nengo.PoissonSpiking(nengo.LIFRate())
            )
            nengo.Connection(u, ens[0], synapse=None)
            out = nengo.Node(size_in=6)
            nengo.Connection(ens, out, synapse=None)
            probe = nengo.Probe(out, synapse=0.01)
            layout = "plain nengo.Ensemble"
    with nengo.Simulator(net, progress_bar=False) as sim:
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        sim.run(1.0)
        run_s = time.perf_counter() - t1
        assert np.all(np.isfinite(sim.data[probe]))
    return {
        "kind": kind,
        "n_neurons": m,
        "layout": layout,
        "build_s": build_s,
        "run_s": run_s,
        "peak_gb": peak_gb(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--neurons",
        default="1000,3000,10000,30000,100000,300000,1000000",
        help="comma-separated neuron counts",
    )
    parser.add_argument("--timeout", type=float, default=600, help="per measurement")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "M"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, m = args.one[0], int(args.one[1])
        print(json.dumps(measure(kind, m)), flush=True)
        return
    neurons = [int(float(x)) for x in args.neurons.split(",")]
    print(
        f"machine: {os.cpu_count()} cores; order 6, theta 1 s, Poisson LIF, 1 s at "
        "dt = 1 ms; peak RSS per fresh process"
    )
    header = (
        f"{'m':>9}  {'layout':<16}{'build s':>9}{'s/1e5 m':>9}{'run s':>8}"
        f"{'peak GB':>9}   "
        f"{'plain build s':>13}{'run s':>8}{'peak GB':>9}{'build ratio':>12}"
    )
    print(header)
    print("-" * len(header))
    for m in neurons:
        ours = run_child(__file__, "lmu", m, args.timeout)
        plain = (
            run_child(__file__, "plain", m, args.timeout)
            if m <= PLAIN_MAX_NEURONS
            else None
        )
        if "error" in ours:
            print(f"{m:>9}  error: {ours['error']}")
            continue
        line = (
            f"{m:>9}  {ours['layout']:<16}{ours['build_s']:>9.2f}"
            f"{ours['build_s'] / m * 1e5:>9.2f}{ours['run_s']:>8.2f}"
            f"{ours['peak_gb']:>9.2f}   "
        )
        if plain is None:
            line += f"{'(does not fit: m^2 memory)':>30}"
        elif "error" in plain:
            line += f"{'error: ' + plain['error'][:40]:>30}"
        else:
            line += (
                f"{plain['build_s']:>13.2f}{plain['run_s']:>8.2f}{plain['peak_gb']:>9.2f}"
                f"{plain['build_s'] / ours['build_s']:>11.1f}x"
            )
        print(line, flush=True)
    print("\ns/1e5 m: build seconds per 100,000 neurons (flat = linear in m)")


if __name__ == "__main__":
    main()
