"""Training in NengoDL: the resumable `Trainer` and its checkpoints.

Importing this module imports neither TensorFlow nor NengoDL; `Trainer` does.
"""

import json
import os

import numpy as np

from nengo_lmu.tasks.models import build_classifier


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
