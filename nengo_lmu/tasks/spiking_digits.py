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
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None):
    """Train, convert to spiking and test; returns the accuracies as a dict."""
    from nengo_lmu.cli import int_at_least, int_list, positive_float

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
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
        default=None,
        help="train on the first N training images only",
    )
    p.add_argument("--epochs", type=int_at_least(1), default=5)
    p.add_argument("--units", type=int_at_least(1), default=64)
    p.add_argument("--order", type=int_at_least(1), default=32)
    p.add_argument("--learning-rate", type=positive_float, default=0.003)
    p.add_argument(
        "--holds",
        type=int_list,
        default=[10, 30],
        help="simulator steps per pixel, comma-separated",
    )
    p.add_argument("--rate-scale", type=positive_float, default=100.0)
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
    args = p.parse_args(argv)

    from nengo_lmu import tasks

    (x_train, y_train), (x_test, y_test) = tasks.load_dataset(
        args.dataset, args.data_path
    )
    x_train = tasks.permuted_sequences(x_train[: args.max_train])
    y_train = y_train[: args.max_train]
    x_test = tasks.permuted_sequences(x_test)[: args.test]
    y_test = y_test[: args.test]
    n_steps = x_train.shape[1]
    t0 = time.perf_counter()
    trainer = tasks.Trainer(
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
    net, _, probe = tasks.spiking_classifier(
        weights,
        args.order,
        float(n_steps),
        n_steps,
        steps_per_sample=1,
        spiking=False,
    )
    results["rate rebuilt in Nengo"] = tasks.spiking_accuracy(
        net, probe, x_test[:n], y_test[:n]
    )
    for hold in args.holds:
        net, _, probe = tasks.spiking_classifier(
            weights,
            args.order,
            float(n_steps),
            n_steps,
            steps_per_sample=hold,
            rate_scale=args.rate_scale,
        )
        results[f"spiking, {hold} steps per pixel"] = tasks.spiking_accuracy(
            net, probe, x_test[:n], y_test[:n]
        )
    if args.loihi_test:
        import nengo_loihi

        from nengo_lmu.loihi import loihi_model

        def loihi_simulator(network, **kwargs):
            model = loihi_model(decode_tau=args.loihi_decode_tau)
            return nengo_loihi.Simulator(
                network, model=model, target=args.loihi_target, **kwargs
            )

        hold = max(args.holds)
        k = min(args.loihi_test, n)
        # host-to-chip values must lie in [-1, 1]: scale them on training data
        net, _, probe = tasks.spiking_classifier(
            weights,
            args.order,
            float(n_steps),
            n_steps,
            steps_per_sample=hold,
            rate_scale=args.rate_scale,
            calibration=x_train[:100],
        )
        results[f"Loihi emulator, {hold} steps per pixel ({k} images)"] = (
            tasks.spiking_accuracy(
                net, probe, x_test[:k], y_test[:k], simulator=loihi_simulator
            )
        )
        results[f"spiking (Nengo), same {k} images"] = tasks.spiking_accuracy(
            net, probe, x_test[:k], y_test[:k]
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


if __name__ == "__main__":
    main()
