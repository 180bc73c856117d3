"""A million-neuron LMU memory beside the machine's lower bound and Brian2.

For each m, in a fresh process each (so that peak RSS is its own), 1 s at
dt = 1 ms of the order-6, theta = 1 s memory of m Poisson LIF-rate neurons
(``LMUMemory(6, 1.0, m, neuron_type=PoissonSpiking(LIFRate()))``, sub-population
layout):

- ``ours``: on ``nengo.Simulator``, with the fused sub-population step;
- ``ours-f32``: the same, its decoders solved in single precision
  (``Subpopulations(solver_dtype="float32")``; their effect on the error is
  measured by ``benchmarks/solver_precision.py``);
- ``nengo-ops``: the same network on ``nengo.Simulator`` with Nengo's own
  operators (``fuse=False`` on the network's config for
  `~nengo_lmu.networks.SubpopulationEnsemble`: dense encoding and decoding
  products, Nengo's PoissonSpiking), what this package did before the fused step;
- ``bound``: a lower-bound kernel: one compiled, parallel pass per step over the
  same per-neuron arrays the fused step must touch (read the encoder gain, the
  bias and the decoder, write the output: 32 bytes per neuron), doing no
  arithmetic beyond a multiply-add; the least memory traffic a step that writes
  each neuron's output can have (the fused step here writes none: nothing but
  the decoded sum is read; and it skips the neurons below threshold);
- ``brian2``: Brian2 (2.9, Cython runtime) simulating the same neurons (the
  same gains, biases, encoders and decoders, from our build), with the same
  decoded recurrence: decoded spikes -> ``A_H``/``B_H`` -> a zero-order-hold
  lowpass of tau 0.1 (exact integration), each neuron's rate from its state
  dimension; spikes Bernoulli(rate dt), Brian2's usual way (ours are Poisson).
  Build time includes Brian2's code generation and compilation (cached after the
  first run).

Prints build (construct + ``nengo.Simulator``), run and peak memory for each
(and, for our network, the peak bytes per neuron above the imports'), and the
ratios ours / bound and ours / brian2 (targets: at most 3x the bound, no
slower than Brian2). Results are appended to ``benchmarks/results/fast_step/
results.json`` as each measurement ends (an interrupted run keeps them; rerun with
``--resume`` to skip what is there).

Usage::

    python benchmarks/fast_step.py                        # m = 1e3 .. 1e6
    python benchmarks/fast_step.py --neurons 1000000 --kinds ours,bound,brian2
    python benchmarks/fast_step.py --neurons 1e6,1e7,1e8 --kinds ours,ours-f32,bound \
        --timeout 3600 --results benchmarks/results/fast_step/large.json
"""

import argparse
import json
import os
import time
from pathlib import Path

from _child import peak_gb, run_child

from nengo_lmu._io import read_json, write_json_atomic

KINDS = ("ours", "ours-f32", "nengo-ops", "bound", "brian2")
RESULTS = Path(__file__).parent / "results" / "fast_step" / "results.json"
ORDER, THETA, DT, DURATION = 6, 1.0, 0.001, 1.0


def memory_network(m, seed=0, fuse=True, solver_dtype="float64"):
    import nengo

    from nengo_lmu.networks import LMUMemory, SubpopulationEnsemble
    from nengo_lmu.networks.layouts import Subpopulations

    with nengo.Network(seed=seed) as net:
        net.config.configures(SubpopulationEnsemble)
        net.config[SubpopulationEnsemble].fuse = fuse
        u = nengo.Node(nengo.processes.WhiteSignal(10.0, high=1.0, rms=0.5, y0=0))
        memory = LMUMemory(
            ORDER,
            THETA,
            m,
            neuron_type=nengo.PoissonSpiking(nengo.LIFRate()),
            layout=Subpopulations(solver_dtype=solver_dtype),
        )
        nengo.Connection(u, memory.input, synapse=None)
        probe = nengo.Probe(memory.output, synapse=0.01)
    return net, memory, probe


def measure_nengo(m, seed=0, fuse=True, solver_dtype="float64"):
    import nengo
    import numpy as np

    # the decoders solved, as a new user's first build does (not read from
    # Nengo's on-disk decoder cache, which would write n decoders to disk)
    nengo.rc.set("decoder_cache", "enabled", "False")
    before_gb = peak_gb()  # the interpreter and its imports
    t0 = time.perf_counter()
    net, memory, probe = memory_network(m, seed, fuse=fuse, solver_dtype=solver_dtype)
    with nengo.Simulator(net, progress_bar=False) as sim:
        build_s = time.perf_counter() - t0
        sim.run_steps(1)  # the first step compiles the kernel (cached on disk)
        t1 = time.perf_counter()
        sim.run(DURATION)
        run_s = time.perf_counter() - t1
        y = sim.data[probe]
    return {
        "build_s": build_s,
        "run_s": run_s,
        "finite": bool(np.isfinite(y).all()),
        # peak memory above the imports' (the kernels' compiled code included)
        "bytes_per_neuron": (peak_gb() - before_gb) * 1e9 / m,
    }


def measure_bound(m, seed=0):
    import numba
    import numpy as np

    from nengo_lmu.networks._kernels import PARALLEL_MIN_NEURONS

    # on all cores where the fused step is too
    @numba.njit(parallel=m >= PARALLEL_MIN_NEURONS)
    def stream(enc_gain, bias, decoders, out, x):
        acc = 0.0
        for i in numba.prange(enc_gain.shape[0]):
            o = bias[i] + enc_gain[i] * x
            out[i] = o
            acc += decoders[i] * o
        return acc

    rng = np.random.RandomState(seed)
    arrays = [rng.uniform(-1, 1, m) for _ in range(3)]
    out = np.zeros(m)
    stream(*arrays, out, 0.5)  # compile
    n_steps = int(round(DURATION / DT))
    t0 = time.perf_counter()
    total = 0.0
    for step in range(n_steps):
        total += stream(*arrays, out, step * 1e-3)
    return {"build_s": 0.0, "run_s": time.perf_counter() - t0, "finite": bool(total)}


def built_memory(m, seed=0):
    """Our network's build: the neurons and transforms Brian2 will simulate."""
    import nengo
    import numpy as np

    from nengo_lmu.networks.subpopulations import one_hot_layout

    net, memory, probe = memory_network(m, seed)
    model = nengo.builder.Model(dt=DT)
    model.build(net)
    ens, conn = memory.subpopulations[0]
    built = model.params[ens]
    dims, signs = one_hot_layout(built.encoders)
    decoders = model.params[conn].weights[dims, np.arange(m)]
    u = nengo.processes.WhiteSignal(10.0, high=1.0, rms=0.5, y0=0).run(
        DURATION + DT, dt=DT, rng=np.random.RandomState(seed)
    )[:, 0]
    A_H, B_H = memory.recurrent_transform, memory.input_transform[:, 0]
    return (
        dims,
        signs * built.gain,
        built.bias,
        decoders,
        u,
        A_H,
        B_H,
        memory.neuron_type.base_type,
        memory.synapse.tau,
    )


def measure_brian2(m, seed=0):
    import brian2 as b2
    import numpy as np

    t0 = time.perf_counter()
    dims, enc_gain, bias, decoders, u, A_H, B_H, nt, tau = built_memory(m, seed)
    prep_s = time.perf_counter() - t0

    b2.prefs.codegen.target = "cython"
    b2.defaultclock.dt = DT * b2.second
    t1 = time.perf_counter()
    u_t = b2.TimedArray(u, dt=DT * b2.second)
    state = b2.NeuronGroup(
        ORDER,
        """
        dx/dt = (z - x) / tau_s : 1
        z = recur + bh * u_t(t) : 1
        recur : 1
        y : 1
        bh : 1 (constant)
        """,
        method="exact",
        namespace={"tau_s": tau * b2.second, "u_t": u_t},
    )
    state.bh = B_H
    state.run_regularly("y = 0", when="end")
    recurrence = b2.Synapses(state, state, "a : 1\nrecur_post = a * y_pre : 1 (summed)")
    i, j = np.meshgrid(np.arange(ORDER), np.arange(ORDER), indexing="ij")
    recurrence.connect(i=i.ravel(), j=j.ravel())  # i = pre (column), j = post (row)
    recurrence.a = A_H.T.ravel()
    neurons = b2.NeuronGroup(
        m,
        """
        J = b + g * xin : 1
        jp = clip(J - 1, 1e-12, 1e12) : 1
        rate = int(J > 1) / (tau_ref + tau_rc * log(1 + 1 / jp)) : Hz
        xin : 1 (linked)
        g : 1 (constant)
        b : 1 (constant)
        """,
        threshold="rand() < rate * dt",
        namespace={"tau_ref": nt.tau_ref * b2.second, "tau_rc": nt.tau_rc * b2.second},
    )
    neurons.g = enc_gain
    neurons.b = bias
    neurons.xin = b2.linked_var(state, "x", index=dims)
    # a spike is 1/dt (Nengo's scaling), as a plain number
    decode = b2.Synapses(
        neurons,
        state,
        "w : 1",
        on_pre="y_post += w * inv_dt",
        namespace={"inv_dt": 1.0 / DT},
    )
    decode.connect(i=np.arange(m), j=dims)
    decode.w = decoders
    monitor = b2.StateMonitor(state, "x", record=True)
    network = b2.Network(state, recurrence, neurons, decode, monitor)
    network.run(DT * b2.second)  # code generation and compilation
    build_s = prep_s + time.perf_counter() - t1
    t2 = time.perf_counter()
    network.run(DURATION * b2.second)
    run_s = time.perf_counter() - t2
    return {
        "build_s": build_s,
        "run_s": run_s,
        "finite": bool(np.isfinite(monitor.x).all()),
    }


def measure(kind, m):
    fn = {
        "ours": measure_nengo,
        "ours-f32": lambda m: measure_nengo(m, solver_dtype="float32"),
        "nengo-ops": lambda m: measure_nengo(m, fuse=False),
        "bound": measure_bound,
        "brian2": measure_brian2,
    }[kind]
    result = fn(m)
    result.update(kind=kind, n_neurons=m, peak_gb=peak_gb())
    return result


def load(path):
    return read_json(path) if path.exists() else []


def table(results, neurons):
    by = {(r["kind"], r["n_neurons"]): r for r in results}
    header = (
        f"{'m':>9} {'kind':<10}{'build s':>9}{'run s':>9}{'peak GB':>9}"
        f"{'B/neuron':>9}{'run/bound':>11}{'run/brian2':>12}"
    )
    lines = [header, "-" * len(header)]
    for m in neurons:
        bound, brian = by.get(("bound", m)), by.get(("brian2", m))
        for kind in KINDS:
            r = by.get((kind, m))
            if r is None:
                continue
            if "error" in r:
                lines.append(f"{m:>9} {kind:<10}error: {r['error'][:60]}")
                continue
            ratios = ""
            for ref in (bound, brian):
                ok = ref and "error" not in ref and kind != ref["kind"]
                ratio = f"{r['run_s'] / ref['run_s']:.2f}x" if ok else "-"
                ratios += f"{ratio:>11}" if ref is bound else f"{ratio:>12}"
            per_neuron = r.get("bytes_per_neuron")
            per_neuron = "-" if per_neuron is None else f"{per_neuron:.0f}"
            lines.append(
                f"{m:>9} {kind:<10}{r['build_s']:>9.2f}{r['run_s']:>9.2f}"
                f"{r['peak_gb']:>9.2f}{per_neuron:>9}{ratios}"
            )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--neurons", default="1000,10000,100000,1000000", help="comma-separated m"
    )
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated")
    parser.add_argument("--timeout", type=float, default=900, help="per measurement")
    parser.add_argument("--resume", action="store_true", help="skip stored results")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--one", nargs=2, metavar=("KIND", "M"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]))), flush=True)
        return
    neurons = [int(float(x)) for x in args.neurons.split(",")]
    kinds = [k.strip() for k in args.kinds.split(",")]
    for kind in kinds:
        if kind not in KINDS:
            parser.error(f"--kinds: unknown kind {kind!r}; choose from {KINDS}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    results = load(args.results) if args.resume else []
    done = {(r["kind"], r["n_neurons"]) for r in results if "error" not in r}
    print(
        f"machine: {os.cpu_count()} cores; order {ORDER}, theta {THETA} s, Poisson "
        f"LIF-rate, {DURATION} s at dt = {DT * 1e3:g} ms; one fresh process each"
    )
    # compile (and cache on disk) the kernels once, so no build time below
    # includes numba's compilation (a first run on a new machine pays up to 30 s)
    run_child(__file__, "ours", 1000, args.timeout)
    for m in neurons:
        for kind in kinds:
            if (kind, m) in done:
                continue
            result = run_child(__file__, kind, m, args.timeout)
            results = [
                r for r in results if (r["kind"], r["n_neurons"]) != (kind, m)
            ] + [result]
            write_json_atomic(args.results, results, indent=1)
            print(json.dumps(result), flush=True)
    print()
    print(table(results, neurons))


if __name__ == "__main__":
    main()
