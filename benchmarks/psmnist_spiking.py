"""psMNIST in spikes: the trained spiking-friendly LMU against steps per pixel.

Reads the weights of a finished run of the spiking-friendly variant (ReLU hidden
units, no hidden recurrence)::

    nengo-lmu train psmnist --dataset mnist --validation 10000 \\
        --no-hidden-to-hidden --hidden-activation relu --units 346 --order 468 \\
        --epochs 20 --patience 4 --out benchmarks/results/psmnist/variant

and converts it with `nengo_lmu.tasks.spiking_classifier`: the hidden units become
SpikingRectifiedLinear neurons (rate ``rate_scale`` Hz per unit of activation),
the memory stays exact (conversion (a) of issue 20), each pixel is presented for
``hold`` simulator steps (dt 1 ms), and the class is the readout's mean over the
last window. The first ``--test`` test digits go through the network simulated in
batched numpy (`nengo_lmu.tasks.spiking.batched_spiking_logits`), checked against
nengo.Simulator on ``--verify`` digits.

Printed and written per hold: accuracy, agreement with the rate network, spikes
per inference, and the operations per inference in NeuroBench's terms:

- rate network (the trained one, run as an RNN over the 784 pixels): MACs of the
  memory (784 x (order^2 + order), dense Ad and Bd), of the hidden layer at the
  last step (units x (order + 1)) and of the readout (10 per nonzero hidden
  activation: effective MACs);
- spiking network: the same memory MACs, the hidden layer's input once per
  window (784 x units x (order + 1) MACs: the held memory changes once per
  pixel), and the readout's accumulates (ACs: 10 per spike), over the whole
  presentation (the network classifies continuously) and over the last window
  (all the final class needs).

Results go to ``--out`` (results.json, accuracy.png); a rerun reuses the holds
already computed for the same weights and settings.

Usage::

    python benchmarks/psmnist_spiking.py                    # 1,000 digits
    python benchmarks/psmnist_spiking.py --holds 1,10 --test 100
"""

import argparse
import hashlib
import os
import time

import numpy as np

from nengo_lmu import _io

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "psmnist")
WEIGHTS = os.path.join(RESULTS, "variant", "weights.npz")


def parse_args(argv=None):
    from nengo_lmu._argtypes import int_at_least, int_list, positive_float

    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--weights", default=WEIGHTS, help="weights.npz of the run")
    p.add_argument(
        "--holds",
        type=int_list,
        default=[1, 2, 5, 10, 20, 50],
        help="simulator steps per pixel, comma-separated",
    )
    p.add_argument("--rate-scale", type=positive_float, default=100.0)
    p.add_argument("--test", type=int_at_least(1), default=1000)
    p.add_argument("--verify", type=int_at_least(0), default=1)
    p.add_argument("--out", default=os.path.join(RESULTS, "spiking"))
    return p.parse_args(argv)


def operations(settings, rate_hidden, spikes):
    """Operations per inference (see the module's docstring), as a dict."""
    order, units = settings["order"], settings["units"]
    n_steps = 784
    memory = n_steps * (order**2 + order)
    nonzero = float(np.mean(np.count_nonzero(rate_hidden, axis=1)))
    ops = {
        "rate_macs": memory + units * (order + 1) + 10 * nonzero,
        "rate_hidden_nonzero": nonzero,
        "memory_macs": memory,
        "hidden_input_macs_per_window": units * (order + 1),
    }
    if spikes is not None:
        ops |= {
            "spiking_macs": memory + n_steps * units * (order + 1),
            "spikes": float(np.mean(spikes[:, 0])),
            "spikes_last_window": float(np.mean(spikes[:, 1])),
            "readout_acs": 10 * float(np.mean(spikes[:, 0])),
            "readout_acs_last_window": 10 * float(np.mean(spikes[:, 1])),
        }
    return ops


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    holds = sorted(int(h) for h in results["holds"])
    acc = [100 * results["holds"][str(h)]["accuracy"] for h in holds]
    spikes = [results["holds"][str(h)]["spikes"] for h in holds]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.semilogx(holds, acc, "o-", label="spiking hidden units, exact memory")
    ax1.axhline(100 * results["rate_accuracy"], color="k", ls=":", label="rate")
    ax1.set_xlabel("simulator steps per pixel (dt 1 ms)")
    ax1.set_ylabel(f"test accuracy (%), {results['n_test']} digits")
    ax1.legend(loc="lower right", fontsize=8)
    ax2.loglog(holds, spikes, "s-", label="whole presentation")
    ax2.loglog(
        holds,
        [results["holds"][str(h)]["spikes_last_window"] for h in holds],
        "^-",
        label="last window",
    )
    ax2.set_xlabel("simulator steps per pixel")
    ax2.set_ylabel("hidden spikes per inference")
    ax2.legend(fontsize=8)
    for ax in (ax1, ax2):
        ax.set_xticks(holds, [str(h) for h in holds])
    s = results["settings"]
    fig.suptitle(
        f"psMNIST (full MNIST), LMU order {s['order']}, {s['units']} ReLU units, no "
        f"hidden recurrence, rate scale {results['rate_scale']:g}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    from nengo_lmu import tasks
    from nengo_lmu.tasks.inference import hidden_rates, load_weights
    from nengo_lmu.tasks.psmnist import evaluation_sequences
    from nengo_lmu.tasks.spiking import batched_spiking_logits, initial_voltages

    weights, settings = load_weights(args.weights)
    if "W_h" in weights or settings["hidden_activation"] != "relu":
        raise SystemExit(
            f"{args.weights}: needs the ReLU variant without the hidden recurrence "
            f"(--no-hidden-to-hidden --hidden-activation relu)"
        )
    with open(args.weights, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    x, y = evaluation_sequences(settings, n=args.test)
    order, theta, n_steps = settings["order"], settings["theta"], x.shape[1]
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "results.json")
    key = {"weights_sha256": digest, "n_test": len(x), "rate_scale": args.rate_scale}
    results = _io.read_json(path) if os.path.exists(path) else None
    if results is None or results.get("key") != key:
        results = {"key": key, "settings": settings, "holds": {}, **key}
    # the hidden layer's rate activations at the last step (for the readout's
    # effective MACs) and the rate network's logits
    hidden = hidden_rates(weights, order, theta, x, "relu")
    rate = hidden @ weights["W_out"].T
    results["rate_accuracy"] = float(np.mean(np.argmax(rate, 1) == y))
    results["rate_operations"] = operations(settings, hidden, None)
    print(
        f"{args.weights}: rate network {100 * results['rate_accuracy']:.2f} % on "
        f"{len(x)} test digits; {results['rate_operations']['rate_macs']:.3g} MACs "
        "per inference",
        flush=True,
    )
    for hold in args.holds:
        if str(hold) in results["holds"]:
            r = results["holds"][str(hold)]
        else:
            t0 = time.perf_counter()
            net, _, probe = tasks.spiking_classifier(
                weights, order, theta, n_steps, steps_per_sample=hold,
                rate_scale=args.rate_scale,
            )  # fmt: skip
            voltage0 = initial_voltages(net)
            logits, spikes = batched_spiking_logits(
                weights, order, theta, hold, x, voltage0, args.rate_scale,
                return_spikes=True,
            )  # fmt: skip
            seconds = time.perf_counter() - t0
            check = None
            if args.verify:
                k = args.verify
                _, nengo_logits = tasks.spiking_accuracy(
                    net, probe, x[:k], y[:k], return_outputs=True
                )
                check = float(np.max(np.abs(logits[:k] - nengo_logits)))
            r = {
                "accuracy": float(np.mean(np.argmax(logits, 1) == y)),
                "agreement_with_rate": float(
                    np.mean(np.argmax(logits, 1) == np.argmax(rate, 1))
                ),
                "logit_error": float(np.mean(np.abs(logits - rate))),
                "seconds": seconds,
                "check_logits_vs_nengo": check,
                **operations(settings, hidden, spikes),
            }
            results["holds"][str(hold)] = r
            _io.write_json_atomic(path, results, indent=1)
        print(
            f"{hold:>3} steps per pixel: {100 * r['accuracy']:.2f} % (rate "
            f"{100 * results['rate_accuracy']:.2f} %, same class "
            f"{100 * r['agreement_with_rate']:.1f} %); {r['spikes']:.0f} spikes "
            f"({r['spikes_last_window']:.0f} in the last window), "
            f"{r['readout_acs']:.3g} ACs + {r['spiking_macs']:.3g} MACs; "
            f"check vs nengo {r['check_logits_vs_nengo']}; {r['seconds']:.0f} s",
            flush=True,
        )
    _io.write_json_atomic(path, results, indent=1)
    plot(results, os.path.join(args.out, "accuracy.png"))
    return results


if __name__ == "__main__":
    main()
