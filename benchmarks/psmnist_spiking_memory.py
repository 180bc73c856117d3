"""psMNIST with the memory in spikes too: how many neurons would conversion (b) need?

Conversion (b) of issue 20 makes the trained spiking-friendly variant's memory (order
468, theta 784 pixels) a spiking `nengo_lmu.networks.LMUMemory` as well. This script
measures that memory on psMNIST digits before anyone simulates 1,000 of them:

- a few test digits (``--digits``) go through the memory, one channel each, with
  ``m`` Poisson-spiking LIF-rate neurons per digit (``--neurons``, sub-population
  layout), each pixel held for ``hold`` steps of 1 ms (``--holds``: theta is 0.784 s
  times the hold); the radii are 1.1 times the largest state of 200 test digits;
- its output is compared, step by step, with the exact memory of the same held
  input one step earlier (the network's one-step lag): the NRMSE of the whole
  state, the relative RMS error of the first, middle and last state, and the
  relative error of the final state, which the classifier reads;
- the classifier's accuracy on ``--test`` test digits when their exact final states
  get Gaussian noise of the measured variance per state (an estimate: the states'
  noise is correlated in the network, independent here), beside the rate
  network's accuracy; and the classes the spiking final states of the simulated
  digits give.

Results go to ``--out``/results.json, one entry per (neurons, hold), written as
each ends (a rerun skips what is there).

Usage::

    python benchmarks/psmnist_spiking_memory.py        # 468,000 and 4,680,000
    python benchmarks/psmnist_spiking_memory.py --neurons 468000 --holds 1,10
"""

import argparse
import os
import time

import numpy as np

from nengo_lmu import _io

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "psmnist")
WEIGHTS = os.path.join(RESULTS, "variant", "weights.npz")


def parse_args(argv=None):
    from nengo_lmu._argtypes import int_at_least, int_list

    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--weights", default=WEIGHTS, help="weights.npz of the variant")
    p.add_argument(
        "--neurons",
        type=int_list,
        default=[468_000, 4_680_000],
        help="memory neurons per digit, comma-separated",
    )
    p.add_argument(
        "--holds", type=int_list, default=[1], help="simulator steps per pixel"
    )
    p.add_argument("--digits", type=int_at_least(1), default=1)
    p.add_argument("--test", type=int_at_least(1), default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(RESULTS, "spiking-memory"))
    return p.parse_args(argv)


def exact_states(x, order, theta, e_x):
    """The exact memory of ``e_x x`` for sequences ``x`` (n, T), at every step:
    (n, T, order) (ZOH at one step, the trained cell's memory)."""
    from nengo_lmu.tasks.inference import memory_impulse

    n_steps = x.shape[1]
    H = memory_impulse(order, theta, n_steps)
    size = 2 * n_steps
    spectrum = np.fft.rfft(x, size)[:, :, None] * np.fft.rfft(H, size, axis=0)[None]
    return np.fft.irfft(spectrum, size, axis=1)[:, :n_steps] * e_x


def classify(weights, m_last, x_last):
    """The ReLU variant's classes from final memory states (n, order) and last
    inputs (n, 1) (`nengo_lmu.tasks.inference.state_logits`)."""
    from nengo_lmu.tasks.inference import state_logits

    return np.argmax(state_logits(weights, m_last, x_last, "relu"), axis=1)


def spiking_memory(x, order, theta, radii, n_neurons, seed, dt=0.001):
    """Simulate the spiking memory of sequences ``x`` (k, T) (one channel each,
    ``n_neurons`` each), one step past the end: its output (k, T + 1, order),
    build and run seconds."""
    import nengo

    from nengo_lmu.analysis.sweeps import decoder_cache_disabled
    from nengo_lmu.networks import LMUMemory

    k, n_steps = x.shape
    inputs = np.concatenate([x.T, np.zeros((1, k))])  # one step more: the lag
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(nengo.processes.PresentInput(list(inputs), dt))
        memory = LMUMemory(
            order,
            theta * dt,
            n_neurons * k,
            channels=k,
            radii=radii,
            neuron_type=nengo.PoissonSpiking(nengo.LIFRate()),
            layout="subpopulations",
        )
        nengo.Connection(u, memory.input, synapse=None)
        probe = nengo.Probe(memory.output, synapse=None)
    t0 = time.perf_counter()
    # decoders solved (build_s is a first build's), not read from Nengo's cache
    with (
        decoder_cache_disabled(),
        nengo.Simulator(net, dt=dt, progress_bar=False) as sim,
    ):
        build_s = time.perf_counter() - t0
        sim.run_steps(n_steps + 1)
        run_s = time.perf_counter() - t0 - build_s
        out = sim.data[probe].reshape(n_steps + 1, k, order).transpose(1, 0, 2)
    return out, build_s, run_s


def measure(args, weights, settings, x, y, n_neurons, hold, radii, m_last):
    """One (neurons, hold) entry; ``radii`` and ``m_last`` (the test digits' exact
    final states) depend on the weights only, so `main` computes them once."""
    order, theta = settings["order"], settings["theta"]
    e_x = float(weights["e_x"][0, 0])
    k = args.digits
    held = np.repeat(x[:, :, 0], hold, axis=1)  # (n, T * hold)
    # the exact memory at the held input's time scale: at the pixels' ends it is
    # the trained memory (ZOH is exact for held input)
    exact = exact_states(held[:k], order, theta * hold, e_x)
    out, build_s, run_s = spiking_memory(
        held[:k], order, theta * hold, radii, n_neurons, args.seed
    )
    err = out[:, 1:] - exact  # the output one step after the exact state
    var = np.mean(err**2, axis=(0, 1))
    power = np.mean(exact**2, axis=(0, 1))
    relative = np.sqrt(var / power)
    np.testing.assert_allclose(m_last[:k], exact[:, -1], rtol=1e-6, atol=1e-9)
    final = out[:, -1]
    rng = np.random.RandomState(args.seed)
    noisy = m_last + rng.standard_normal(m_last.shape) * np.sqrt(var)
    return {
        "neurons_per_digit": n_neurons,
        "neurons_per_state": n_neurons / order,
        "hold": hold,
        "digits": k,
        "build_s": build_s,
        "run_s": run_s,
        "nrmse": float(np.sqrt(var.sum() / power.sum())),
        "state_relative_rmse": {
            "first": float(relative[0]),
            "middle": float(relative[order // 2]),
            "last": float(relative[-1]),
        },
        "final_state_relative_error": [
            float(v)
            for v in np.linalg.norm(final - m_last[:k], axis=1)
            / np.linalg.norm(m_last[:k], axis=1)
        ],
        "spiking_classes": classify(weights, final, x[:k, -1]).tolist(),
        "labels": [int(v) for v in y[:k]],
        "noise_estimate_accuracy": float(
            np.mean(classify(weights, noisy, x[:, -1]) == y)
        ),
    }


def main(argv=None):
    args = parse_args(argv)
    from nengo_lmu.tasks.inference import (
        final_memory_states,
        load_weights,
        rate_logits,
    )
    from nengo_lmu.tasks.psmnist import evaluation_sequences

    weights, settings = load_weights(args.weights)
    if "W_h" in weights or settings["hidden_activation"] != "relu":
        raise SystemExit(f"{args.weights}: needs the ReLU variant without W_h")
    x, y = evaluation_sequences(settings, n=args.test)
    rate = rate_logits(weights, settings["order"], settings["theta"], x, "relu")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "results.json")
    results = _io.read_json(path) if os.path.exists(path) else {"runs": {}}
    results.update(
        settings=settings,
        n_test=len(x),
        rate_accuracy=float(np.mean(np.argmax(rate, 1) == y)),
    )
    print(f"rate network: {100 * results['rate_accuracy']:.2f} % on {len(x)} digits")
    order, theta = settings["order"], settings["theta"]
    e_x = float(weights["e_x"][0, 0])
    sample = exact_states(x[:200, :, 0], order, theta, e_x)
    radii = 1.1 * np.max(np.abs(sample), axis=(0, 1))
    m_last = final_memory_states(weights, order, theta, x[:, :, 0])
    for n_neurons in args.neurons:
        for hold in args.holds:
            key = f"{n_neurons}/{hold}/{args.digits}/{args.seed}"
            if key not in results["runs"]:
                results["runs"][key] = measure(
                    args, weights, settings, x, y, n_neurons, hold, radii, m_last
                )
                _io.write_json_atomic(path, results, indent=1)
            r = results["runs"][key]
            s = r["state_relative_rmse"]
            print(
                f"{n_neurons:,} neurons per digit ({r['neurons_per_state']:.0f} per "
                f"state), {hold} steps per pixel: NRMSE {r['nrmse']:.3f} (states "
                f"first {s['first']:.3f}, middle {s['middle']:.3f}, last "
                f"{s['last']:.3f}); final state off by "
                f"{np.round(r['final_state_relative_error'], 2).tolist()}; classes "
                f"{r['spiking_classes']} (labels {r['labels']}); with this noise "
                f"the classifier scores {100 * r['noise_estimate_accuracy']:.1f} %; "
                f"build {r['build_s']:.0f} s, run {r['run_s']:.0f} s",
                flush=True,
            )
    _io.write_json_atomic(path, results, indent=1)
    return results


if __name__ == "__main__":
    main()
