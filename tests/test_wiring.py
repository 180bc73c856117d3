"""The networks' constructors: ensemble settings from the config, the wiring
option object, layouts as builders of one spec, and where Loihi lives."""

import inspect
import subprocess
import sys

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.loihi import LOIHI_INTERCEPTS, LOIHI_MAX_RATES, LoihiWiring
from nengo_lmu.networks import (
    LinearNetwork,
    LMUMemory,
    State,
    Subpopulations,
    Wiring,
    build_state,
)
from nengo_lmu.systems import PadeDelay


def _max_rates(sim, ens):
    """The rate of each neuron at x = 1 along its encoder, from its built gain
    and bias."""
    return ens.neuron_type.rates(
        np.ones(ens.n_neurons), sim.data[ens].gain, sim.data[ens].bias
    )


def test_same_arguments_in_the_same_order():
    """After what each builds on (``system``; ``order, theta``), LinearNetwork
    and LMUMemory take the same arguments in the same order, ``n_neurons``
    then ``synapse`` first, ``label, seed, add_to_container`` last, then the
    ensembles' settings."""
    linear = list(inspect.signature(LinearNetwork).parameters)
    memory = list(inspect.signature(LMUMemory).parameters)
    assert linear[0] == "system" and memory[:2] == ["order", "theta"]
    assert linear[1:] == memory[2:]
    assert linear[1:] == [
        "n_neurons",
        "synapse",
        "mapping",
        "dt",
        "layout",
        "realizer",
        "radii",
        "input_process",
        "channels",
        "wiring",
        "label",
        "seed",
        "add_to_container",
        "allocation",
        "ens_kwargs",
    ]


def test_ens_kwargs_reach_the_ensembles_through_the_config():
    """``max_rates``, ``intercepts`` and ``neuron_type`` given to the memory are
    set on its config, as EnsembleArray does, and reach every ensemble: each
    neuron fires at 150 Hz at x = 1 along its encoder (to 1e-6) under a
    Choice([150]) rate, where Nengo's default U(200, 400) would give none
    below 200. They override the enclosing network's config (here 300 Hz)."""
    for layout in ("ensemble", "per-dimension", "subpopulations"):
        with nengo.Network(seed=0) as net:
            net.config[nengo.Ensemble].max_rates = nengo.dists.Choice([300.0])
            memory = LMUMemory(
                2,
                0.5,
                40,
                layout=layout,
                neuron_type=nengo.LIFRate(),
                max_rates=nengo.dists.Choice([150.0]),
                intercepts=nengo.dists.Choice([-0.2]),
            )
        assert memory.config[nengo.Ensemble].max_rates.options[0] == 150.0
        assert isinstance(memory.neuron_type, nengo.LIFRate)
        with nengo.Simulator(net, progress_bar=False) as sim:
            for ens in memory.all_ensembles:
                assert isinstance(ens.neuron_type, nengo.LIFRate), layout
                assert np.allclose(_max_rates(sim, ens), 150.0, rtol=1e-6), layout


def test_memory_config_reaches_nonlinear_readouts():
    """The ensembles of a nonlinear readout are made inside the memory, so its
    settings reach them too (Nengo's config, as for any subnetwork)."""
    with nengo.Network(seed=0):
        memory = LMUMemory(3, 0.5, 300, max_rates=nengo.dists.Choice([120.0]))
        memory.add_readout(np.max, n_neurons=50)
    readouts = [e for e in memory.all_ensembles if e.label.startswith("readout")]
    assert len(readouts) == 1
    assert readouts[0].max_rates.options[0] == 120.0


def test_solver_goes_to_the_decoders():
    """``solver`` reaches each decode of the state (one per pool into the state
    node and one into the output: 3 + 3 for order 3, per-dimension); the
    recurrent weights keep their own weight solver."""
    solver = nengo.solvers.LstsqL2(reg=0.05)
    memory = LMUMemory(3, 0.5, 300, solver=solver, add_to_container=False)
    decodes = [c for c in memory.all_connections if c.pre_obj in memory.all_ensembles]
    assert len(decodes) == 6 and all(c.solver is solver for c in decodes)
    assert memory.config[nengo.Connection].solver is solver


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(dimensions=2), "dimensions"),
        (dict(pool_size=64), "pool_size.*not an argument"),
        (dict(target="loihi"), "target.*not an argument"),
        (dict(realization="balanced"), "realization.*not an argument"),
        (dict(max_rates="fast"), "max_rates"),
        (dict(wiring="loihi"), "wiring: Must be a nengo_lmu.networks.Wiring"),
    ],
)
def test_bad_settings_name_the_argument(kwargs, pattern):
    with pytest.raises(ValidationError, match=pattern):
        LMUMemory(3, 0.5, 300, add_to_container=False, **kwargs)


def test_wiring_option_object():
    """``Wiring(recurrent="weights", pool_size=64)`` on 384 neurons of order 3:
    ceil(384 / (3 * 64)) = 2 copies of 3 pools of 64 neurons, each pool fed
    neuron-to-neuron by the 3 pools of its own copy where A_H is nonzero (the
    delay's A_H has no zero: 2 * 9 connections), each decode into the state
    scaled by 1 / 2 (the average of the copies)."""
    wiring = Wiring(recurrent="weights", pool_size=64)
    memory = LMUMemory(3, 0.1, 384, wiring=wiring, add_to_container=False)
    pools = memory.all_ensembles
    assert [e.n_neurons for e in pools] == [64] * 6
    assert memory.wiring.recurrent == memory.recurrent == "weights"
    assert memory.pool_size == 64 and memory.target == "nengo"
    assert np.all(memory.recurrent_transform != 0)
    recurrent = [
        c for c in memory.all_connections if c.pre_obj in pools and c.post_obj in pools
    ]
    assert len(recurrent) == 18 and all(c.solver.weights for c in recurrent)
    assert all(
        pools.index(c.pre_obj) // 3 == pools.index(c.post_obj) // 3 for c in recurrent
    )
    decodes = [c for c in memory.all_connections if c.post_obj is memory.state]
    assert len(decodes) == 6
    assert all(np.allclose(c.transform.init, 0.5) for c in decodes)
    # the wiring as given is not changed by resolving it for a network
    assert wiring.connection_synapse == "synapse"
    assert memory.connection_synapse is memory.synapse


def test_wiring_connection_synapse_none():
    """``connection_synapse=None``: no synapse on the connections into the
    neurons (recurrent and input), the transforms still made for ``synapse``."""
    network = LinearNetwork(
        PadeDelay(0.1, 2),
        200,
        wiring=Wiring(connection_synapse=None),
        add_to_container=False,
    )
    into = [c for c in network.all_connections if c.post_obj in network.all_ensembles]
    assert len(into) == 4 and all(c.synapse is None for c in into)
    assert network.synapse.tau == 0.1


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(recurrent="mixed"), "recurrent"),
        (dict(pool_size=0), "pool_size"),
        (dict(pool_size="auto"), "pool_size"),
    ],
)
def test_bad_wiring(kwargs, pattern):
    with pytest.raises(ValidationError, match=pattern):
        Wiring(**kwargs)


def test_loihi_wiring_defaults_and_overrides():
    """LoihiWiring gives the memory Loihi's rates and intercepts over the
    enclosing config, unless the memory is given its own."""
    with nengo.Network() as net:
        net.config[nengo.Ensemble].max_rates = nengo.dists.Choice([1.0])
        memory = LMUMemory(3, 0.1, 384, wiring=LoihiWiring())
        own = LMUMemory(
            3, 0.1, 384, wiring=LoihiWiring(), max_rates=nengo.dists.Choice([90.0])
        )
    assert all(e.max_rates is LOIHI_MAX_RATES for e in memory.all_ensembles)
    assert all(e.intercepts is LOIHI_INTERCEPTS for e in memory.all_ensembles)
    assert all(e.max_rates.options[0] == 90.0 for e in own.all_ensembles)
    assert all(e.intercepts is LOIHI_INTERCEPTS for e in own.all_ensembles)
    assert (memory.layout, memory.recurrent, memory.pool_size) == (
        "per-dimension",
        "weights",
        128,
    )
    # "auto" pool size fits the single-ensemble layout too (no pools there)
    single = LMUMemory(
        3, 0.1, 384, layout="ensemble", wiring=LoihiWiring(), add_to_container=False
    )
    assert single.pool_size is None


def test_layout_object_and_state_spec():
    """A layout is a small builder of one `State` spec: ``Subpopulations(size=32)``
    groups the decoders by 32 in LMUMemory and in `build_state` alike."""
    memory = LMUMemory(
        2, 0.3, 2000, layout=Subpopulations(size=32), add_to_container=False
    )
    assert memory.layout == "subpopulations"
    ((_, decode),) = memory.subpopulations
    assert decode.solver.group_size == 32
    with nengo.Network():
        u = nengo.Node(size_in=1)
        x = nengo.Node(size_in=2)
        state = State(
            200,
            np.array([[0.9, 0.1], [0.0, 0.9]]),
            np.array([[0.1], [0.0]]),
            nengo.Lowpass(0.1),
            u=u,
            x=x,
        )
        ensembles, _ = build_state(state, "per-dimension")
    assert [e.n_neurons for e in ensembles] == [100, 100]


def test_networks_do_not_import_nengo_loihi():
    """The layering: networks and the Loihi package import without nengo_loihi
    (which imports TensorFlow); nengo_loihi's builder learns of the networks
    once, when registered."""
    code = (
        "import sys, nengo_lmu.networks, nengo_lmu.loihi; "
        "print('nengo_loihi' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False"]
