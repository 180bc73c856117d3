"""Functions of the rolling window as nengolib's users write them: a nonlinear
function with no neuron count, ``t`` with a function, and Direct mode."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LegendreMemory, RollingWindow, legendre_readout
from nengo_lmu.networks import LMUMemory
from nengo_lmu.networks.memory import DEFAULT_READOUT_NEURONS


def nrmse(actual, ideal):
    actual, ideal = np.ravel(actual), np.ravel(ideal)
    return np.sqrt(np.mean((actual - ideal) ** 2)) / np.sqrt(np.mean(ideal**2))


def true_window_max(u, theta, dt):
    """The maximum of ``u`` over each window ``[t - theta, t]``, from the input."""
    n = int(round(theta / dt))
    return np.array([u[max(0, k - n) : k + 1].max() for k in range(len(u))])


def spiking_max(n_neurons=None, seed=0, duration=3.0):
    """The window maximum decoded by a 1,000-neuron LIF window (theta 0.1 s,
    order 6) of 10 Hz white noise, probed through 10 ms, and the true one,
    filtered alike; the first 150 ms (the first window) are left out."""
    theta, dt = 0.1, 0.001
    process = nengo.processes.WhiteSignal(duration, high=10, rms=0.5, y0=0)
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(process)
        window = RollingWindow(theta, 1000, process=process)
        nengo.Connection(u, window.input, synapse=None)
        if n_neurons is None:
            peak = window.add_output(np.max)  # as a nengolib user writes it
        else:
            peak = window.add_output(np.max, n_neurons=n_neurons)
        p_u = nengo.Probe(u)
        p_peak = nengo.Probe(peak, synapse=0.01)
    with nengo.Simulator(net, dt=dt, progress_bar=False, seed=seed) as sim:
        sim.run(duration)
    true = true_window_max(sim.data[p_u][:, 0], theta, dt)
    true = nengo.Lowpass(0.01).filt(true[:, None], dt=dt, y0=0)[:, 0]
    after = sim.trange() > theta + 0.05
    readout_neurons = sum(e.n_neurons for e in window.all_ensembles) - 1000
    return sim.data[p_peak][after, 0], true[after], readout_neurons


def test_nonlinear_output_without_n_neurons():
    """``add_output(np.max)`` decodes the maximum with DEFAULT_READOUT_NEURONS
    (2,000) neurons, exactly as ``n_neurons=2000`` does. Measured NRMSE against
    the true window maximum (seeds 0, 1): 0.108, 0.108 (500 neurons: 0.14,
    0.17; 1,000: 0.13, 0.14; 4,000: 0.109, 0.098: beyond 2,000 the memory's own
    spiking error dominates). Asserted for seed 0: 0.15."""
    assert DEFAULT_READOUT_NEURONS == 2000
    decoded, true, readout_neurons = spiking_max()
    assert readout_neurons == DEFAULT_READOUT_NEURONS
    error = nrmse(decoded, true)
    assert error < 0.15, error


def test_default_is_the_same_network_as_2000_neurons():
    """Same seeds, same objects: the default and ``n_neurons=2000`` build the
    same network (no simulation needed to compare their decoders)."""
    networks = []
    for n_neurons in (None, 2000):
        with nengo.Network(seed=0) as net:
            memory = LMUMemory(3, 0.5, 300)
            memory.add_readout(np.max, n_neurons=n_neurons)
        networks.append(net)
    with nengo.Simulator(networks[0], progress_bar=False) as a:
        with nengo.Simulator(networks[1], progress_bar=False) as b:
            ens_a, ens_b = (n.all_ensembles[-1] for n in networks)
            assert ens_a.n_neurons == ens_b.n_neurons == 2000
            assert np.array_equal(a.data[ens_a].gain, b.data[ens_b].gain)


def direct_window(functions, order=8, theta=0.5, dt=0.001, duration=2.0):
    """A Direct-mode window with ``add_output(**kwargs)`` for each of
    ``functions`` (a dict name -> kwargs), and the exact memory
    (`LegendreMemory`) of the same input."""
    process = nengo.processes.WhiteSignal(duration, high=3, rms=0.5, y0=0, seed=3)
    with nengo.Network(seed=0) as net:
        u = nengo.Node(process)
        window = RollingWindow(
            theta, 10, process=process, order=order, neuron_type=nengo.Direct()
        )
        nengo.Connection(u, window.input, synapse=None)
        exact = nengo.Node(LegendreMemory(order, theta), size_in=1)
        nengo.Connection(u, exact, synapse=None)
        probes = {
            name: nengo.Probe(window.add_output(**kwargs))
            for name, kwargs in functions.items()
        }
        p_exact = nengo.Probe(exact)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(duration)
    assert not window.all_ensembles[0].neuron_type.spiking
    return {name: sim.data[p] for name, p in probes.items()}, sim.data[p_exact]


def test_direct_mode_computes_nonlinear_functions():
    """With Direct neurons a nonlinear function needs no neurons: it is applied to
    the window reconstructed from the memory, ``legendre_readout(order, r) @ m``.
    Reference: the same function of the window reconstructed from the exact
    memory (`LegendreMemory` in a Node). The Direct network realizes the memory
    exactly at dt, one step behind the Node (its output at step k is the memory
    after step k - 1, for its linear readouts as well); so aligned, the largest
    difference measured is 7e-14; asserted 1e-9. The function sees 100 samples
    in ascending time, or the samples at ``t`` in the order of ``t``."""
    order = 8
    outputs, m = direct_window(
        {
            "max": {"function": np.max},
            "newest_times_oldest": {"function": lambda w: w[-1] * w[0]},
            "product": {"function": lambda w: w[0] * w[1], "t": [0.0, 0.5]},
        },
        order=order,
    )
    outputs = {name: value[1:, 0] for name, value in outputs.items()}
    m = m[:-1]  # one step behind (see above)
    ascending = legendre_readout(order, np.linspace(1, 0, 100))
    windows = m @ ascending.T
    assert np.max(np.abs(outputs["max"] - windows.max(axis=1))) < 1e-9
    expected = windows[:, -1] * windows[:, 0]
    assert np.max(np.abs(outputs["newest_times_oldest"] - expected)) < 1e-9
    at_t = m @ legendre_readout(order, [0.0, 0.5]).T
    expected = at_t[:, 0] * at_t[:, 1]
    assert np.max(np.abs(outputs["product"] - expected)) < 1e-9


def test_function_of_the_window_at_t_is_exact_when_linear():
    """``add_output(t=t, function=f)`` with a linear ``f`` is ``f`` of the delay
    readouts at ``t``: here ``u(now) - u(now - theta)`` against the two delays
    read out separately (the same projection, so equal to float rounding)."""
    outputs, _ = direct_window(
        {
            "difference": {"function": lambda w: w[0] - w[1], "t": [0.0, 1.0]},
            "delays": {"t": [0.0, 1.0]},
        },
        duration=0.5,
    )
    delays = outputs["delays"]
    assert np.allclose(outputs["difference"][:, 0], delays[:, 0] - delays[:, 1])


def test_spiking_function_of_the_window_at_t():
    """``add_output(t=[0, 0.5], function=lambda w: w[0] * w[1])`` decodes
    ``u(now) u(now - theta / 2)`` (nengolib's convention: the window sampled at
    ``-t theta``, in the order of ``t``), as the same product of the true
    input (5 Hz white noise, theta 0.1 s, 1,000 LIF neurons in the memory and
    2,000 decoding). Measured NRMSE (seed 0): 0.24; asserted 0.35. (The product of
    two nearly independent values is small: the same product of the two
    decoded delays scored 0.32 in a like network.)"""
    theta, dt, duration = 0.1, 0.001, 3.0
    process = nengo.processes.WhiteSignal(duration, high=5, rms=0.5, y0=0)
    with nengo.Network(seed=0) as net:
        u = nengo.Node(process)
        window = RollingWindow(theta, 1000, process=process)
        nengo.Connection(u, window.input, synapse=None)
        product = window.add_output(t=[0.0, 0.5], function=lambda w: w[0] * w[1])
        p_u = nengo.Probe(u)
        p_product = nengo.Probe(product, synapse=0.01)
    with nengo.Simulator(net, dt=dt, progress_bar=False, seed=0) as sim:
        sim.run(duration)
    x = sim.data[p_u][:, 0]
    half = int(round(theta / 2 / dt))
    true = x * np.concatenate([np.zeros(half), x[:-half]])
    true = nengo.Lowpass(0.01).filt(true[:, None], dt=dt, y0=0)[:, 0]
    after = sim.trange() > theta + 0.05
    error = nrmse(sim.data[p_product][after, 0], true[after])
    assert error < 0.35, error


def test_add_output_arguments():
    with nengo.Network():
        window = RollingWindow(0.5, 300, order=3)
        with pytest.raises(ValidationError, match="give function.*t.*or both"):
            window.add_output()
        with pytest.raises(ValidationError, match=r"t.*\[0, 1\]"):
            window.add_output(np.max, t=[0.0, 1.5])
        with pytest.raises(ValidationError, match="not both"):
            window.add_readout(0.5, t=0.5)


def test_nengolib_constructor_habits_are_refused_by_name():
    """nengolib's ``RollingWindow(theta, n_neurons, dimensions=6, ...)``: its
    positional third argument and its ``dimensions`` keyword get errors that
    name ``order``."""
    with nengo.Network():
        with pytest.raises(ValidationError, match="nengo.Process; got 6.*order="):
            RollingWindow(0.1, 300, 6)
        with pytest.raises(ValidationError, match="order=6 here"):
            RollingWindow(0.1, 300, dimensions=6)
