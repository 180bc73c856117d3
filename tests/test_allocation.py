"""Neurons where the error is: noise gains, allocation, and the network option."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LegendreMemory, legendre_readout
from nengo_lmu.analysis import nrmse
from nengo_lmu.networks import LMUMemory
from nengo_lmu.networks.layouts import AllocatedEncoders
from nengo_lmu.systems.noise import (
    allocate_neurons,
    closed_loop,
    state_noise_gains,
)

POISSON = nengo.PoissonSpiking(nengo.LIFRate())
PROCESS = nengo.processes.WhiteSignal(period=10.0, high=5.0, rms=0.3, y0=0.0)


def memory(order=3, n_neurons=3000, **kwargs):
    return LMUMemory(
        order, 0.1, n_neurons, input_process=PROCESS, add_to_container=False, **kwargs
    )


def test_gains_against_an_impulse_response():
    """The Gramian's g_i equal the summed squared impulse response of the loop,
    run step by step in numpy (Nengo's lowpass: ``x[k+1] = a x[k] + (1 - a) v[k]``),
    then through the readout's lowpass: to 1e-9 relative (only the truncation
    after 20,000 steps and rounding differ)."""
    net = memory(order=4)
    R = legendre_readout(4, 1.0) @ net.realization.C
    A_H, dt, tau, tau_r = net.recurrent_transform, 0.001, 0.1, 0.01
    gains = state_noise_gains(A_H, tau, dt, R, readout_synapse=tau_r)
    a, a_r = np.exp(-dt / tau), np.exp(-dt / tau_r)
    d = A_H.shape[0]
    x = np.zeros((d, d))  # column i: the loop's response to an impulse on state i
    r = np.zeros(d)
    eta = np.eye(d)
    total = np.zeros(d)
    for _ in range(20_000):
        decoded = x + eta
        r = a_r * r + (1 - a_r) * (R @ decoded)[0]
        total += r**2
        x = a * x + (1 - a) * (A_H @ decoded)
        eta = np.zeros((d, d))
    assert np.allclose(gains, total, rtol=1e-9, atol=0), (gains, total)


def test_gains_against_white_noise_in_nengo(seed):
    """White noise of unit variance per step injected into each decoded state of
    the loop, simulated by Nengo itself (passthrough nodes, the recurrent
    transform through a 0.1 s lowpass, the readout probed through a 10 ms
    lowpass): the readout's variance is g_i. Order 3, 100 s: the estimate's
    relative standard error is about sqrt(2 T_c / T) with correlation time T_c
    below 0.1 s, 4 %; we allow 15 %."""
    net = memory(order=3)
    R = legendre_readout(3, 1.0) @ net.realization.C
    A_H = net.recurrent_transform
    gains = state_noise_gains(A_H, 0.1, 0.001, R, readout_synapse=0.01)
    d = 3
    with nengo.Network(seed=seed) as model:
        noise = nengo.Node(
            nengo.processes.WhiteNoise(dist=nengo.dists.Gaussian(0, 1), scale=False),
            size_out=d,
        )
        probes = []
        for i in range(d):
            x = nengo.Node(size_in=d)  # the decoded state x + eta
            nengo.Connection(x, x, transform=A_H, synapse=0.1)
            nengo.Connection(noise[i], x[i], synapse=None)
            y = nengo.Node(size_in=1)
            nengo.Connection(x, y, transform=R, synapse=None)
            probes.append(nengo.Probe(y, synapse=0.01))
    with nengo.Simulator(model, progress_bar=False) as sim:
        sim.run(100.0)
    skip = 1000  # the loop's transient (its slowest pole, about 0.1 s)
    measured = np.array([np.var(sim.data[p][skip:]) for p in probes])
    assert np.allclose(measured, gains, rtol=0.15, atol=0), (measured, gains)


def test_gains_validation():
    with pytest.raises(ValidationError, match="columns"):
        state_noise_gains(np.eye(2) * 0.5, 0.1, 0.001, np.ones((1, 3)))
    with pytest.raises(ValidationError, match="not stable"):
        # A_H = 2: the loop x <- a x + (1 - a) 2 x grows
        state_noise_gains([[2.0]], 0.1, 0.001, [[1.0]])
    with pytest.raises(ValidationError, match="pass-through"):
        closed_loop([[0.5]], nengo.LinearFilter([1, 0], [1, 1]), 0.001)


def test_allocate_neurons():
    counts = allocate_neurons([1.0, 2.0, 3.0, 0.0], 1000, minimum=5)
    assert counts.sum() == 1000 and counts.min() >= 5
    assert counts[3] == 5  # no weight: the minimum
    # the rest in proportion 1 : 2 : 3, to within the rounding
    assert np.allclose(counts[:3], np.array([1, 2, 3]) * 995 / 6, atol=1)
    # states whose share falls below the minimum are held there, the others share
    # the rest in proportion
    counts = allocate_neurons([100.0, 1.0, 1.0], 30, minimum=5)
    assert list(counts) == [20, 5, 5]
    for n in range(12, 40):
        counts = allocate_neurons([5.0, 0.3, 1e-9, 2.0], n, minimum=3)
        assert counts.sum() == n and counts.min() >= 3
    with pytest.raises(ValidationError, match="cannot give"):
        allocate_neurons([1.0, 1.0], 3, minimum=2)
    with pytest.raises(ValidationError, match="non-negative"):
        allocate_neurons([1.0, -1.0], 10)


def test_allocation_option():
    order, n = 6, 3000
    uniform = memory(order, n)
    assert uniform.allocation == "uniform" and uniform.neurons_per_state is None
    delay = legendre_readout(order, 1.0)
    net = memory(order, n, allocation=delay, layout="per-dimension")
    counts = net.neurons_per_state[0]
    assert counts.sum() == n and counts.min() >= 1
    assert [e.n_neurons for e in net.all_ensembles] == list(counts)
    # m_i proportional to sqrt(g_i), to within the rounding
    share = np.sqrt(net.noise_gains) / np.sum(np.sqrt(net.noise_gains))
    assert np.allclose(counts, n * share, atol=1), (counts, n * share)
    # the whole memory ("output", Legendre units) weighs states by their size
    # too: the smallest, highest-order ones get the fewest neurons
    whole = memory(order, n, allocation="output").neurons_per_state[0]
    assert whole.sum() == n and whole.min() >= 1 and whole[0] > whole[-1]
    # given counts are used as given; per channel
    given = np.array([1000, 900, 500, 300, 200, 100])
    net = memory(order, 2 * n, allocation=given, channels=2, layout="per-dimension")
    assert [e.n_neurons for e in net.all_ensembles] == 2 * list(given)


def test_allocation_subpopulations_and_pools(seed):
    """Sub-populations get one block of encoders per state; a pooled wiring
    splits each state's count over the copies."""
    counts = np.array([5000, 2500, 500])
    net = memory(3, 8000, allocation=counts, layout="subpopulations", seed=seed)
    (ens,) = net.all_ensembles
    assert isinstance(ens.encoders, AllocatedEncoders)
    with nengo.Simulator(net, progress_bar=False) as sim:
        encoders = sim.data[ens].encoders
    assert list(np.abs(encoders).sum(axis=0)) == list(counts)
    pooled = memory(
        3,
        800,
        allocation=np.array([500, 250, 50]),
        layout="per-dimension",
        wiring=nengo_lmu_wiring(recurrent="weights", pool_size=200),
    )
    sizes = [e.n_neurons for e in pooled.all_ensembles]
    assert sum(sizes) == 800 and max(sizes) <= 200
    # three copies of three pools: 500 -> 167 + 167 + 166, ...
    assert sizes[:3] == [167, 84, 17]


def nengo_lmu_wiring(**kwargs):
    from nengo_lmu.networks import Wiring  # pylint: disable=import-outside-toplevel

    return Wiring(**kwargs)


@pytest.mark.parametrize(
    "allocation, match",
    [
        ("readout", "Unknown value 'readout'"),
        (np.array([1000, 1000]), "3 integers"),
        (np.array([1000, 1000, 999]), "summing"),
        (np.array([2000, 1000, 0]), "integers >= 1"),
        (np.array([1000.0, 1000.0, 1000.0]), "integers"),
        (np.ones((1, 4)), "3 columns"),
        (np.ones((1, 1, 3)), "readout matrix"),
    ],
)
def test_allocation_validation(allocation, match):
    with pytest.raises(ValidationError, match=match) as info:
        memory(3, 3000, allocation=allocation)
    assert info.value.attr == "allocation"


def test_auto_layout_follows_the_largest_state():
    """ "auto" picks sub-populations when a state gets more than the threshold,
    as it would with that many neurons in every state; uniform is unchanged."""
    delay = legendre_readout(12, 1.0)
    assert memory(12, 10_000).layout == "per-dimension"  # 833 per state
    net = memory(12, 10_000, allocation=delay)
    assert net.neurons_per_state.max() > 1000
    assert net.layout == "subpopulations"
    assert memory(12, 10_000, allocation=delay, layout="per-dimension").layout == (
        "per-dimension"
    )


def test_allocation_needs_neurons_per_state():
    with pytest.raises(ValidationError, match="layout 'ensemble'") as info:
        memory(3, 300, layout="ensemble", allocation="output")
    assert info.value.attr == "allocation"
    # uniform is every layout's
    memory(3, 300, layout="ensemble", allocation="uniform")


def run_delay(allocation, seed, order=6, n_neurons=3000, duration=1.0):
    """The delay readout's NRMSE against the exact memory's readout."""
    C = legendre_readout(order, 1.0)
    with nengo.Network(seed=seed) as model:
        u = nengo.Node(PROCESS)
        net = LMUMemory(
            order,
            0.1,
            n_neurons,
            input_process=PROCESS,
            neuron_type=POISSON,
            layout="per-dimension",
            allocation=C if allocation == "readout" else allocation,
        )
        exact = nengo.Node(LegendreMemory(order, 0.1), size_in=1)
        nengo.Connection(u, net.input, synapse=None)
        nengo.Connection(u, exact, synapse=None)
        p = nengo.Probe(net.output, synapse=0.01)
        p_exact = nengo.Probe(exact, synapse=0.01)
    with nengo.Simulator(model, progress_bar=False) as sim:
        sim.run(duration)
    start = 200
    y = sim.data[p][start:] @ C.T
    target = sim.data[p_exact][start - 1 : -1] @ C.T
    return nrmse(y, target)


@pytest.mark.filterwarnings("ignore:Extra state has been modified")
def test_readout_allocation_is_not_worse_than_uniform():
    """Order 6, theta 0.1 s, 3,000 Poisson neurons per-dimension, 5 Hz input of
    rms 0.3, 1 s: delay readout NRMSE against the exact memory's readout,
    seeds 0 and 1, measured: uniform 0.131 and 0.091 (mean 0.111), readout
    allocation 0.069 and 0.058 (mean 0.064, ratio 0.57). The seeds of one
    allocation differ by 30 %; the gap between allocations is 43 %, so we assert
    only that the mean is not worse than uniform's."""
    uniform = np.mean([run_delay("uniform", seed) for seed in (0, 1)])
    readout = np.mean([run_delay("readout", seed) for seed in (0, 1)])
    assert readout < uniform, (readout, uniform)


def test_docstring_examples_run():
    import doctest  # pylint: disable=import-outside-toplevel

    from nengo_lmu.systems import noise  # pylint: disable=import-outside-toplevel

    result = doctest.testmod(noise, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0, result
