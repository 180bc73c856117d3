"""Sub-population decoders solved in single precision: the same error?

`~nengo_lmu.networks.SubpopulationSolver` solves each group's Gram matrix in
float64 by default; ``dtype="float32"`` (``Subpopulations(solver_dtype=
"float32")``) halves the cost of the products and the solves. This measures what
it does to the memory, with the ``large`` preset's network (theta 0.5 s, 2 s, its
default input), for each (neuron type, order, m, seed) built twice, once per
precision, same seed:

- ``lifrate`` (rate neurons, no spike noise): the error is the decoders' own, so a
  change of the decoders shows directly (deterministic);
- ``poisson`` (the preset's Poisson LIF-rate neurons): the decoded error is
  mostly spike noise; a different decoder changes the spike trains, so the two
  errors are compared with their spread over the seeds.

It also prints, at the largest m, the decoders' largest and rms relative
difference, and the solver's time in each precision (same run). Results go to
``benchmarks/results/large/solver_precision.json`` as each run ends (a rerun
skips what is there).

Usage::

    python benchmarks/solver_precision.py
    python benchmarks/solver_precision.py --neurons 1e4 --orders 6 --seeds 1
"""

import argparse
import os
import time

import nengo
import numpy as np

from nengo_lmu._io import read_json, write_json_atomic
from nengo_lmu.analysis.experiments import measure_memory
from nengo_lmu.analysis.sweeps import decoder_cache_disabled
from nengo_lmu.networks.layouts import Subpopulations

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "large", "solver_precision.json")
THETA, DURATION = 0.5, 2.0
NEURON_TYPES = {
    "lifrate": nengo.LIFRate,
    "poisson": lambda: nengo.PoissonSpiking(nengo.LIFRate()),
}
DTYPES = ("float64", "float32")


def measure(neuron_type, order, m, seed, dtype):
    """One memory's NRMSE (all states, and the delay readout)."""
    with decoder_cache_disabled():
        r = measure_memory(
            order,
            THETA,
            m,
            neuron_type=NEURON_TYPES[neuron_type](),
            seed=seed,
            duration=DURATION,
            warmup=THETA,
            layout=Subpopulations(solver_dtype=dtype),
        )
    return {
        "neuron_type": neuron_type,
        "order": order,
        "n_neurons": m,
        "seed": seed,
        "dtype": dtype,
        "nrmse": r["nrmse"],
        "readout_nrmse": r["readout_nrmse"],
        "build_s": r["build_s"],
    }


def decoders_of(m, order, dtype, seed=0):
    """The built decoders of the order-``order`` Poisson memory, and the time
    its solver took."""
    from nengo_lmu.networks import LMUMemory

    with nengo.Network(seed=seed) as net:
        memory = LMUMemory(
            order,
            THETA,
            m,
            neuron_type=NEURON_TYPES["poisson"](),
            layout=Subpopulations(solver_dtype=dtype),
        )
    model = nengo.builder.Model()
    with decoder_cache_disabled():
        t0 = time.perf_counter()
        model.build(net)
        build_s = time.perf_counter() - t0
    _, conn = memory.subpopulations[0]
    # each neuron decodes its own dimension: one nonzero per column
    return model.params[conn].weights.sum(axis=0), build_s


def decoder_difference(m, order):
    """Largest and rms relative difference of the float32 decoders from the
    float64 ones (relative to the largest float64 decoder), and both builds'
    times."""
    d64, t64 = decoders_of(m, order, "float64")
    d32, t32 = decoders_of(m, order, "float32")
    scale = np.abs(d64).max()
    return {
        "n_neurons": m,
        "order": order,
        "max_rel": float(np.abs(d32 - d64).max() / scale),
        "rms_rel": float(np.sqrt(np.mean((d32 - d64) ** 2)) / scale),
        "build_s_float64": t64,
        "build_s_float32": t32,
    }


def summary(results):
    """Per (neuron type, order, m), over the seeds run in both precisions: the
    mean NRMSE of the memory and of its delay readout in each (``nrmse`` and
    ``readout_nrmse``: (float64, float32)), and the seeds' relative spread of
    the float64 NRMSE (``spread``)."""
    rows = [r for r in results if "dtype" in r]
    cases = sorted({(r["neuron_type"], r["order"], r["n_neurons"]) for r in rows})
    out = []
    for case in cases:
        by = {
            (r["dtype"], r["seed"]): r
            for r in rows
            if (r["neuron_type"], r["order"], r["n_neurons"]) == case
        }
        seeds = sorted({s for d, s in by if d == "float64" and ("float32", s) in by})
        if not seeds:
            continue
        entry = dict(zip(("neuron_type", "order", "n_neurons"), case), seeds=seeds)
        for column in ("nrmse", "readout_nrmse"):
            entry[column] = tuple(
                float(np.mean([by[dtype, s][column] for s in seeds]))
                for dtype in DTYPES
            )
        first = np.array([by["float64", s]["nrmse"] for s in seeds])
        entry["spread"] = float(first.std() / first.mean()) if len(seeds) > 1 else 0.0
        out.append(entry)
    return out


def report(results):
    """`summary` as text, and the decoders' difference where it was measured."""
    lines = [
        f"{'neurons':<8}{'order':>6}{'m':>10}{'seeds':>6}{'NRMSE f64':>12}"
        f"{'NRMSE f32':>12}{'f32/f64':>9}{'seed spread':>13}{'readout f32/f64':>17}"
    ]
    for e in summary(results):
        (a, b), (ra, rb) = e["nrmse"], e["readout_nrmse"]
        lines.append(
            f"{e['neuron_type']:<8}{e['order']:>6}{e['n_neurons']:>10}"
            f"{len(e['seeds']):>6}{a:>12.5g}{b:>12.5g}{b / a:>9.4f}"
            f"{e['spread']:>13.3f}{rb / ra:>17.4f}"
        )
    for r in results:
        if "max_rel" in r:
            lines.append(
                f"decoders at m = {r['n_neurons']}, order {r['order']}: float32 vs "
                f"float64 max {r['max_rel']:.2e}, rms {r['rms_rel']:.2e} (relative "
                f"to the largest); build {r['build_s_float64']:.2f} s (float64), "
                f"{r['build_s_float32']:.2f} s (float32), ratio "
                f"{r['build_s_float64'] / r['build_s_float32']:.2f}"
            )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", default="1e4,1e5,1e6", help="comma-separated m")
    parser.add_argument("--orders", default="1,6", help="comma-separated orders")
    parser.add_argument("--types", default="lifrate,poisson", help="neuron types")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--results", default=RESULTS)
    args = parser.parse_args()
    neurons = [int(float(x)) for x in args.neurons.split(",")]
    orders = [int(x) for x in args.orders.split(",")]
    types = [x.strip() for x in args.types.split(",")]
    for t in types:
        if t not in NEURON_TYPES:
            parser.error(f"--types: unknown {t!r}; choose from {tuple(NEURON_TYPES)}")
    os.makedirs(os.path.dirname(args.results), exist_ok=True)
    results = read_json(args.results) if os.path.exists(args.results) else []

    def key(r):
        return tuple(
            r.get(k) for k in ("neuron_type", "order", "n_neurons", "seed", "dtype")
        )

    done = {key(r) for r in results}
    for neuron_type in types:
        for order in orders:
            for m in neurons:
                for seed in range(args.seeds):
                    for dtype in DTYPES:
                        run = (neuron_type, order, m, seed, dtype)
                        if run in done:
                            continue
                        results.append(measure(*run))
                        write_json_atomic(args.results, results, indent=1)
                        print(results[-1], flush=True)
    m, order = max(neurons), max(orders)
    if not any(r.get("max_rel") is not None and r["n_neurons"] == m for r in results):
        results.append(decoder_difference(m, order))
        write_json_atomic(args.results, results, indent=1)
    print(report(results))


if __name__ == "__main__":
    main()
