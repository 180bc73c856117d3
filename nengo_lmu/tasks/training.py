"""Training in NengoDL: the resumable `Trainer` and its checkpoints.

Importing this module imports neither TensorFlow nor NengoDL; `Trainer` does.
"""

import os
import time
import zipfile

import numpy as np

from nengo_lmu._io import ResultFileError, read_json, write_json_atomic
from nengo_lmu.tasks.models import build_classifier


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be resumed from (named in the message)."""


def _remedy(folder):
    return (
        f"Delete the folder {folder} to start this training over, or give another "
        "output folder"
    )


def save_checkpoint(folder, weights, state):
    """Write a list of weight arrays and a JSON-able ``state`` to ``folder``.

    The arrays go to a new ``weights-<n>.npz`` (``allow_pickle=False`` to read),
    then ``state.json`` (the state, and the name of that file) replaces the old
    one by a rename, and only then is the previous weights file removed: a kill
    at any moment leaves the previous checkpoint or the new one, whole.
    """
    os.makedirs(folder, exist_ok=True)
    previous = _weights_name(folder)
    counter = 0
    if previous is not None and previous.startswith("weights-"):
        counter = int(previous[len("weights-") : -len(".npz")]) + 1
    name = f"weights-{counter:06d}.npz"
    tmp = os.path.join(folder, f".tmp-{name}")
    with open(tmp, "wb") as f:
        np.savez(f, **{f"w{i}": np.asarray(w) for i, w in enumerate(weights)})
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(folder, name))
    write_json_atomic(os.path.join(folder, "state.json"), {"weights": name, **state})
    for old in os.listdir(folder):  # earlier weights, and temporaries of a kill
        if old != name and (old.startswith("weights") or old.startswith(".tmp-")):
            os.remove(os.path.join(folder, old))


def _weights_name(folder):
    path = os.path.join(folder, "state.json")
    if not os.path.exists(path):
        return None
    state = read_json(path, what="checkpoint state")
    if not isinstance(state, dict):
        raise CheckpointError(
            f"{path}: expected a JSON object, got {type(state).__name__}. "
            + _remedy(folder)
        )
    return state.get("weights", "weights.npz")  # older checkpoints: weights.npz


def load_checkpoint(folder):
    """The ``(weights, state)`` that `save_checkpoint` wrote to ``folder``, or
    ``None`` when it holds no checkpoint (no ``state.json``).

    Raises
    ------
    CheckpointError
        For a broken checkpoint (``state.json`` not JSON, its weights file
        missing, not an npz or missing arrays), naming the file, what is wrong
        and the remedy.
    """
    try:
        name = _weights_name(folder)
    except ResultFileError as e:
        raise CheckpointError(f"{e}. {_remedy(folder)}") from None
    if name is None:
        return None
    state = read_json(os.path.join(folder, "state.json"))
    state.pop("weights", None)
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        raise CheckpointError(
            f"{path}: the weights file that {folder}/state.json names is missing. "
            + _remedy(folder)
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            files = set(f.files)
            n = len(files)
            missing = [f"w{i}" for i in range(n) if f"w{i}" not in files]
            if missing:
                raise CheckpointError(
                    f"{path}: arrays {missing} are missing (the file was not "
                    f"written by save_checkpoint). " + _remedy(folder)
                )
            weights = [f[f"w{i}"] for i in range(n)]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(
            f"{path}: not a readable npz file of weights ({type(e).__name__}: "
            f"{e}); it was cut short or is not ours. " + _remedy(folder)
        ) from None
    return weights, state


def training_arrays(model, optimizer):
    """A Keras model's weights followed by its optimizer's variables (for
    `save_checkpoint`): what a resumed run needs to continue exactly."""
    return model.get_weights() + [v.numpy() for v in optimizer.variables]


def restore_training_arrays(model, optimizer, arrays, folder="the checkpoint"):
    """Undo `training_arrays`; checkpoints that hold weights only (older ones)
    leave the optimizer fresh. Arrays that do not fit the model raise
    `CheckpointError` naming ``folder``."""
    expected = [w.shape for w in model.get_weights()]
    got = [np.shape(a) for a in arrays[: len(expected)]]
    if got != expected:
        raise CheckpointError(
            f"{folder}: its weights do not fit this model (shapes {got}, the model "
            f"needs {expected}): it was written for other settings. " + _remedy(folder)
        )
    n_weights = len(expected)
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
        Where the weights and Adam's state (npz, ``allow_pickle=False``) and
        ``state.json`` (epochs done, history) are written after every epoch; a
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
        recurrent_initializer="glorot_uniform",
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
            recurrent_initializer=recurrent_initializer,
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
            restore_training_arrays(
                self.sim.keras_model, self.optimizer, arrays, checkpoint_dir
            )

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
        """Train until ``epochs`` epochs are done in all (counting resumed ones).

        Each epoch appends its Keras metrics and its wall time (``seconds``) to
        ``state["history"]``."""
        while self.state["epochs_done"] < epochs:
            order = epoch_order(len(x), self.seed, self.state["epochs_done"])
            t0 = time.perf_counter()
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
                | {"seconds": time.perf_counter() - t0}
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
        restore_training_arrays(self.sim.keras_model, self.optimizer, arrays, folder)

    def trained_weights(self):
        """The trained weights as numpy arrays (``e_x, W_m, W_x, bias, ...`` and the
        readout ``W_out``); the parallel form only."""
        if not self.parallel:
            raise ValueError("trained_weights reads the parallel form's layer")
        layer = self.net.cell.layer
        weights = {name: getattr(layer, name).numpy() for name in layer.initial}
        weights["W_out"] = np.array(self.sim.data[self.net.readout].weights)
        return weights
