"""Spiking conversion of a trained LMU classifier (8x8 digits, psFashion-MNIST).

Trains an LMUCell with ReLU hidden units in NengoDL's parallel form (with the hidden
recurrence by default; ``--no-hidden-to-hidden`` for a feed-forward readout of the
memory), then rebuilds it in nengo.Simulator (`nengo_lmu.tasks.spiking_classifier`):
the exact Legendre memory, the hidden units as SpikingRectifiedLinear neurons
(currents and rates x --rate-scale, amplitude 1 / rate-scale), each pixel held for
--holds simulator steps, the hidden recurrence and the prediction read as spike
counts over those steps. Prints test accuracy: rate (NengoDL), rate rebuilt in
Nengo (equal to it: the conversion itself is exact) and spiking.

Usage::

    nengo-lmu train spiking_digits                    # about 2 minutes
    nengo-lmu train spiking_digits --holds 10,30 --test 200
    nengo-lmu train spiking_digits --dataset fashion --max-train 6000 \
        --epochs 2 --order 64 --holds 30 --test 100
"""

import argparse
import time

from nengo_lmu._argtypes import int_at_least, int_list, positive_float
from nengo_lmu._tf import quiet_tensorflow
from nengo_lmu.tasks.data import load_dataset, permuted_sequences
from nengo_lmu.tasks.spiking import spiking_accuracy, spiking_classifier
from nengo_lmu.tasks.training import Trainer


def build_parser():
    """The task's argument parser (``--max-train`` is absent from the parsed
    arguments unless given: `main` parses into a namespace where it is None)."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--dataset",
        choices=["digits", "fashion", "mnist"],
        default="digits",
        help="8x8 digits (64 steps), or psFashion-MNIST / psMNIST (784)",
    )
    p.add_argument("--data-path", default=None, help="where MNIST is (--dataset mnist)")
    p.add_argument(
        "--max-train",
        type=int_at_least(50),
        default=argparse.SUPPRESS,
        help="train on the first N training images only (default: all)",
    )
    p.add_argument("--epochs", type=int_at_least(1), default=5, help="training epochs")
    p.add_argument("--units", type=int_at_least(1), default=64, help="hidden units")
    p.add_argument("--order", type=int_at_least(1), default=32, help="memory order")
    p.add_argument("--learning-rate", type=positive_float, default=0.003, help="Adam's")
    p.add_argument(
        "--holds",
        type=int_list,
        default="10,30",
        help="simulator steps per pixel, comma-separated",
    )
    p.add_argument(
        "--rate-scale",
        type=positive_float,
        default=100.0,
        help="ReLU currents and rates multiplied by this, amplitude divided",
    )
    p.add_argument(
        "--hidden-to-hidden",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train and convert the hidden recurrence",
    )
    p.add_argument(
        "--test",
        type=int_at_least(50),
        default=200,
        help="test images to classify (whole batches of 50)",
    )
    p.add_argument(
        "--loihi-test",
        type=int_at_least(0),
        default=0,
        help="also classify this many test images on the nengo_loihi "
        "emulator (hidden neurons on the chip, the memory and the "
        "window sampling on the host), at the largest --holds",
    )
    p.add_argument(
        "--loihi-decode-tau",
        type=positive_float,
        default=0.001,
        help="nengo_loihi's filter on host-to-chip values (s)",
    )
    p.add_argument(
        "--loihi-target",
        choices=["sim", "simreal"],
        default="sim",
        help="nengo_loihi's emulator with Loihi's discretized weights "
        "and states (sim) or in floating point (simreal)",
    )
    return p


def main(argv=None):
    """Train, convert to spiking and test; returns the accuracies as a dict."""
    quiet_tensorflow()  # before nengo_dl loads TensorFlow
    args = build_parser().parse_args(argv, namespace=argparse.Namespace(max_train=None))
    (x_train, y_train), (x_test, y_test) = load_dataset(args.dataset, args.data_path)
    x_train = permuted_sequences(x_train[: args.max_train])
    y_train = y_train[: args.max_train]
    x_test = permuted_sequences(x_test)[: args.test]
    y_test = y_test[: args.test]
    n_steps = x_train.shape[1]
    t0 = time.perf_counter()
    trainer = Trainer(
        n_steps,
        args.units,
        args.order,
        float(n_steps),
        batch_size=50,
        learning_rate=args.learning_rate,
        hidden_activation="relu",
        hidden_to_hidden=args.hidden_to_hidden,
    )
    trainer.fit(x_train, y_train, epochs=args.epochs)
    n = len(x_test) - len(x_test) % 50
    rate_dl = trainer.accuracy(x_test[:n], y_test[:n])
    weights = trainer.trained_weights()
    trainer.close()
    results = {"rate (NengoDL)": rate_dl}
    net, _, probe = spiking_classifier(
        weights,
        args.order,
        float(n_steps),
        n_steps,
        steps_per_sample=1,
        spiking=False,
    )
    results["rate rebuilt in Nengo"] = spiking_accuracy(
        net, probe, x_test[:n], y_test[:n]
    )
    for hold in args.holds:
        net, _, probe = spiking_classifier(
            weights,
            args.order,
            float(n_steps),
            n_steps,
            steps_per_sample=hold,
            rate_scale=args.rate_scale,
        )
        results[f"spiking, {hold} steps per pixel"] = spiking_accuracy(
            net, probe, x_test[:n], y_test[:n]
        )
    if args.loihi_test:
        results.update(
            loihi_accuracies(args, weights, n_steps, x_train, x_test[:n], y_test[:n])
        )
    print(
        f"{args.dataset}, {len(x_train)} training and {n} test images, "
        f"units {args.units}, order {args.order}, "
        f"hidden_to_hidden={args.hidden_to_hidden}, "
        f"{args.epochs} epochs ({time.perf_counter() - t0:.0f} s)"
    )
    for name, value in results.items():
        print(f"  {name:<34}{100 * value:6.1f} %")
    return results


def loihi_accuracies(args, weights, n_steps, x_train, x_test, y_test):
    """Accuracy on the first ``args.loihi_test`` test images on the nengo_loihi
    emulator and, for the same images and network, in Nengo (at the largest
    ``args.holds``)."""
    import nengo_loihi  # pylint: disable=import-outside-toplevel

    from nengo_lmu.loihi import loihi_model  # pylint: disable=C0415

    def loihi_simulator(network, **kwargs):
        model = loihi_model(decode_tau=args.loihi_decode_tau)
        return nengo_loihi.Simulator(
            network, model=model, target=args.loihi_target, **kwargs
        )

    hold = max(args.holds)
    k = min(args.loihi_test, len(x_test))
    # host-to-chip values must lie in [-1, 1]: scale them on training data
    net, _, probe = spiking_classifier(
        weights,
        args.order,
        float(n_steps),
        n_steps,
        steps_per_sample=hold,
        rate_scale=args.rate_scale,
        calibration=x_train[:100],
    )
    return {
        f"Loihi emulator, {hold} steps per pixel ({k} images)": spiking_accuracy(
            net, probe, x_test[:k], y_test[:k], simulator=loihi_simulator
        ),
        f"spiking (Nengo), same {k} images": spiking_accuracy(
            net, probe, x_test[:k], y_test[:k]
        ),
    }


if __name__ == "__main__":
    main()
