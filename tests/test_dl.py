"""The trainable LMU cell: sequential (plain Nengo) and parallel (NengoDL) forms."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.dl import LMUCell

nengo_dl = pytest.importorskip("nengo_dl")
tf = pytest.importorskip("tensorflow")


def run_cell(parallel, x, activation="tanh", **kwargs):
    batch, n_steps, input_d = x.shape
    with nengo.Network(seed=0) as net:
        if parallel:
            inp = nengo.Node(np.zeros(n_steps * input_d))
            cell = LMUCell(
                8,
                6,
                20.0,
                input_d,
                parallel=True,
                n_steps=n_steps,
                seed=1,
                hidden_activation=activation,
                **kwargs,
            )
        else:
            inp = nengo.Node(np.zeros(input_d))
            cell = LMUCell(
                8,
                6,
                20.0,
                input_d,
                parallel=False,
                seed=1,
                hidden_activation=activation,
                **kwargs,
            )
        nengo.Connection(inp, cell.input, synapse=None)
        probe = nengo.Probe(cell.output)
    with nengo_dl.Simulator(net, minibatch_size=batch, progress_bar=False) as sim:
        if parallel:
            out = sim.predict({inp: x.reshape(batch, 1, -1)}, n_steps=1)[probe]
            return out.reshape(batch, -1 if cell.return_sequences else 1, 8)
        return sim.predict({inp: x}, n_steps=n_steps)[probe]


def test_parallel_equals_sequential_feedforward_hidden():
    x = np.random.RandomState(1).uniform(-1, 1, (2, 30, 1)).astype(np.float32)
    seq = run_cell(False, x, "relu", hidden_to_hidden=False)
    par = run_cell(True, x, "relu", hidden_to_hidden=False)
    assert np.max(np.abs(seq - par)) < 1e-4 and np.max(np.abs(seq)) > 0.1


@pytest.mark.parametrize("activation", ["tanh", "relu", "lif"])
def test_parallel_equals_sequential(activation):
    """Same weights, same outputs: max abs difference < 1e-4 in float32 (measured
    4e-7 for tanh and relu, 5e-6 for LIF rates)."""
    x = np.random.RandomState(0).uniform(-1, 1, (3, 50, 2)).astype(np.float32)
    seq = run_cell(False, x, activation, input_to_hidden=True)
    par = run_cell(True, x, activation, input_to_hidden=True)
    assert seq.shape == par.shape == (3, 50, 8)
    assert np.max(np.abs(seq - par)) < 1e-4
    assert np.max(np.abs(seq)) > 0.1  # not trivially zero


@pytest.mark.parametrize("hidden_to_hidden", [True, False])
def test_last_step_only_equals_the_sequences_last_step(hidden_to_hidden):
    """return_sequences=False gives the last step of the full output (the
    feed-forward hidden layer computes it by one product, not a convolution):
    max abs difference < 1e-5 in float32."""
    x = np.random.RandomState(3).uniform(-1, 1, (3, 40, 2)).astype(np.float32)
    kw = dict(input_to_hidden=True, hidden_to_hidden=hidden_to_hidden)
    every = run_cell(True, x, "tanh", **kw)
    last = run_cell(True, x, "tanh", return_sequences=False, **kw)
    assert last.shape == (3, 1, 8) and np.max(np.abs(every[:, -1])) > 0.1
    assert np.max(np.abs(last[:, 0] - every[:, -1])) < 1e-5


def test_sequential_memory_is_the_lmu():
    """The frozen memory of the sequential cell equals the exact discrete memory
    (theta in steps, ZOH at one step)."""
    from nengo_lmu import simulate_memory

    u = np.random.RandomState(2).uniform(-1, 1, (40, 1))
    with nengo.Network(seed=0) as net:
        inp = nengo.Node(nengo.processes.PresentInput(u, 0.001))
        cell = LMUCell(4, 6, 20.0, 1, parallel=False)
        nengo.Connection(inp, cell.input, synapse=None)
        probe = nengo.Probe(cell.memory)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(40)
    expected = simulate_memory(u, 6, 20.0, dt=1.0)[:, 0, :]
    assert np.allclose(sim.data[probe], expected, atol=1e-10)


def test_parallel_chosen_automatically():
    kw = dict(add_to_container=False)
    assert LMUCell(4, 3, 10.0, 1, n_steps=20, **kw).parallel
    assert not LMUCell(4, 3, 10.0, 1, **kw).parallel
    assert not LMUCell(4, 3, 10.0, 1, n_steps=20, hidden_to_memory=True, **kw).parallel


def test_frozen_memory_not_trained():
    """A training step changes the kernels but not A and B."""
    x = np.random.RandomState(0).uniform(-1, 1, (4, 10, 1)).astype(np.float32)
    y = np.ones((4, 10, 4), dtype=np.float32)
    with nengo.Network(seed=0) as net:
        inp = nengo.Node(np.zeros(1))
        cell = LMUCell(4, 3, 10.0, 1, parallel=False, seed=0)
        nengo.Connection(inp, cell.input, synapse=None)
        probe = nengo.Probe(cell.output)
    memory_conns = [c for c in cell.all_connections if c.post_obj is cell.memory]
    watched = memory_conns + [cell.connections_by_weight["W_m"]]
    with nengo_dl.Simulator(net, minibatch_size=4, progress_bar=False) as sim:
        before = {c: np.array(sim.data[c].weights, dtype=float) for c in watched}
        sim.compile(optimizer=tf.optimizers.SGD(0.5), loss=tf.losses.mse)
        sim.fit({inp: x}, {probe: y}, epochs=2, verbose=0)
        after = {c: np.array(sim.data[c].weights, dtype=float) for c in watched}
    changed = {c: not np.allclose(before[c], after[c]) for c in watched}
    assert len(memory_conns) == 2 and not any(changed[c] for c in memory_conns)
    assert changed[cell.connections_by_weight["W_m"]]


def test_bad_arguments():
    with pytest.raises(ValidationError, match="parallel=True needs"):
        LMUCell(
            4,
            3,
            10.0,
            1,
            parallel=True,
            n_steps=5,
            memory_to_memory=True,
            add_to_container=False,
        )
    with pytest.raises(ValidationError, match="n_steps"):
        LMUCell(4, 3, 10.0, 1, parallel=True, add_to_container=False)
    with pytest.raises(ValidationError, match="return_sequences=False needs"):
        LMUCell(4, 3, 10.0, 1, return_sequences=False, add_to_container=False)
    with pytest.raises(ValidationError, match="hidden_activation"):
        LMUCell(4, 3, 10.0, 1, hidden_activation="sigmoid", add_to_container=False)
    with pytest.raises(ValidationError, match="units"):
        LMUCell(0, 3, 10.0, 1, add_to_container=False)
    with pytest.raises(ValidationError, match="recurrent_initializer.*'orthogonal'"):
        LMUCell(
            4, 3, 10.0, 1, recurrent_initializer="orthogonal", add_to_container=False
        )


def test_recurrent_initializer_zeros():
    """``recurrent_initializer="zeros"`` (the paper's psMNIST start) zeroes W_h and
    leaves every other initial weight as the Glorot cell of the same seed has it."""
    kwargs = dict(input_to_hidden=True, seed=3, add_to_container=False)
    glorot = LMUCell(5, 4, 10.0, 2, **kwargs).weights
    zeros = LMUCell(5, 4, 10.0, 2, recurrent_initializer="zeros", **kwargs).weights
    assert set(glorot) == set(zeros)
    assert np.all(zeros["W_h"] == 0) and np.any(glorot["W_h"] != 0)
    for name in set(glorot) - {"W_h"}:
        np.testing.assert_array_equal(zeros[name], glorot[name], err_msg=name)


def test_sequential_and_parallel_train_the_same_weights():
    """nengo_dl merges connections that share a pre and can drop a merged weight
    from training (seen for W_m and W_h); both forms must train the same arrays."""
    from nengo_lmu.tasks import build_classifier

    shapes = {}
    for parallel in (False, True):
        net, _, _ = build_classifier(20, 16, 8, 20.0, parallel=parallel)
        with nengo_dl.Simulator(net, minibatch_size=2, progress_bar=False) as sim:
            shapes[parallel] = sorted(
                tuple(w.shape) for w in sim.keras_model.trainable_weights
            )
    assert shapes[False] == shapes[True]
    assert (16, 16) in shapes[False] and (16, 8) in shapes[False]


def test_both_forms_train_identically():
    """Same data, same initial weights: the sequential and parallel forms reach the
    same loss after training (measured equal to 1e-7 after 3 epochs on the digits
    with units 64; here 2 epochs of a smaller model, to 1e-4)."""
    pytest.importorskip("sklearn")
    from nengo_lmu import tasks

    (x, y), _ = tasks.load_digits()
    x, y = tasks.permuted_sequences(x)[:300], y[:300]
    losses = []
    for parallel in (True, False):
        trainer = tasks.Trainer(
            64, 16, 8, 64.0, batch_size=50, parallel=parallel, learning_rate=0.003
        )
        trainer.fit(x, y, epochs=2)
        losses.append(trainer.loss(x, y))
        trainer.close()
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)
    assert losses[0] < 2.2  # it learned something (chance: 2.30)


def test_parallel_memory_is_the_lmu():
    """The parallel form's memory (a convolution with the impulse response) is the
    exact discrete memory (simulate_memory: a step-by-step loop)."""
    from nengo_lmu import dl, simulate_memory

    n_steps = 30
    with nengo.Network():
        cell = LMUCell(4, 6, 12.0, 1, parallel=True, n_steps=n_steps)
    u = np.random.RandomState(3).uniform(-1, 1, (2, n_steps)).astype(np.float32)
    cell.layer(tf.constant(u))  # builds the layer's weights (e_x = 1)
    m = dl.memory(cell.layer, tf.constant(u)).numpy()
    for b in range(2):
        expected = simulate_memory(u[b][:, None], 6, 12.0, dt=1.0)[:, 0, :]
        assert np.allclose(m[b], expected, atol=1e-5)


def test_memory_conv_is_the_lmu():
    """LegendreMemoryConv against scipy: each channel's states from
    scipy.signal.cont2discrete (ZOH, dt = 1 step) and dlsim, float32 tolerance;
    the truncated impulse response changes nothing visible."""
    from scipy.signal import cont2discrete, dlsim

    from nengo_lmu.dl import LegendreMemoryConv
    from nengo_lmu.systems import lmu_matrices

    order, theta = 6, 17.0
    u = np.random.RandomState(3).standard_normal((2, 400, 3)).astype(np.float32)
    layer = LegendreMemoryConv(order, theta)
    assert 4 * theta < layer.truncation < 400  # really truncated in this test
    m = layer(u).numpy()
    assert m.shape == (2, 400, 3 * order)
    A, B = lmu_matrices(order, theta)
    Ad, Bd, _, _, _ = cont2discrete((A, B, np.eye(order), np.zeros((order, 1))), 1.0)
    for b in range(2):
        for c in range(3):
            # dlsim's x[t] excludes u[t]; the memory's m[t] includes it
            _, _, x = dlsim(
                (Ad, Bd, np.eye(order), np.zeros((order, 1)), 1.0),
                np.append(u[b, :, c], 0.0),
            )
            assert np.allclose(
                m[b, :, c * order : (c + 1) * order], x[1:], atol=1e-5, rtol=1e-4
            )


def test_memory_conv_bad_arguments():
    from nengo_lmu.dl import LegendreMemoryConv, truncation_steps

    with pytest.raises(ValidationError, match="order"):
        LegendreMemoryConv(0, 10.0)
    with pytest.raises(ValidationError, match="theta"):
        LegendreMemoryConv(4, -1.0)
    with pytest.raises(ValueError, match="truncation must be"):
        LegendreMemoryConv(4, 10.0, truncation=0)
    with pytest.raises(ValidationError, match="history"):
        LegendreMemoryConv(4, 10.0, history="edge")
    with pytest.raises(ValueError, match="not stable"):
        truncation_steps(np.array([[1.0]]), np.array([[1.0]]))


def test_memory_conv_first_history():
    """history="first": the memory of u equals the zero-history memory of a
    sequence preceded by u[0] repeated for the whole truncation."""
    from nengo_lmu.dl import LegendreMemoryConv

    u = np.random.RandomState(4).standard_normal((1, 50, 2)).astype(np.float32) + 1
    first = LegendreMemoryConv(4, 8.0, history="first")
    zero = LegendreMemoryConv(4, 8.0)
    K = first.truncation
    longer = np.concatenate([np.repeat(u[:, :1], K, axis=1), u], axis=1)
    assert np.allclose(first(u).numpy(), zero(longer).numpy()[:, K:], atol=1e-5)
    assert not np.allclose(first(u).numpy()[:, :5], zero(u).numpy()[:, :5], atol=0.1)


def test_sequences_to_data_round_trip_and_shape_errors():
    """NengoDL's layout in one call each way: the parallel cell takes (batch, 1,
    n_steps * input_d) and the sequential one (batch, n_steps, input_d); both give
    back (batch, n_steps, units). A wrong shape raises ValidationError naming the
    expected and the given shapes, before TensorFlow sees it. The two forms,
    driven through these calls with the same weights, agree to float32 round-off
    (measured 4e-7; asserted 1e-5)."""
    rng = np.random.RandomState(0)
    batch, n_steps, input_d, units = 3, 12, 2, 5
    x = rng.uniform(-1, 1, (batch, n_steps, input_d)).astype(np.float32)
    outputs = {}
    for parallel in (True, False):
        with nengo.Network(seed=0) as net:
            cell = LMUCell(
                units, 4, 6.0, input_d, parallel=parallel, n_steps=n_steps, seed=0
            )
            inp = nengo.Node(np.zeros(cell.input.size_in))
            nengo.Connection(inp, cell.input, synapse=None)
            probe = nengo.Probe(cell.output)
        data = cell.sequences_to_data(x)
        assert data.shape == ((batch, 1, n_steps * input_d) if parallel else x.shape)
        with nengo_dl.Simulator(net, minibatch_size=batch, progress_bar=False) as sim:
            out = sim.predict({inp: data}, n_steps=data.shape[1])[probe]
        outputs[parallel] = cell.data_to_sequences(out)
        assert outputs[parallel].shape == (batch, n_steps, units)
        with pytest.raises(
            ValidationError,
            match=r"sequences must have shape "
            rf"\(batch, {n_steps}, {input_d}\); got shape \(3, 12\)",
        ):
            cell.sequences_to_data(x[:, :, 0])
        with pytest.raises(ValidationError, match="got shape"):
            cell.data_to_sequences(out[:, :, :-1])
    assert np.allclose(outputs[True], outputs[False], atol=1e-5)
