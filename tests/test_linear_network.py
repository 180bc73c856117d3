"""LinearNetwork: any linear system in spiking neurons, against the exact system."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu import LegendreDelay, LinearSystem, PadeDelay
from nengo_lmu.analysis import nrmse
from nengo_lmu.networks import LinearNetwork
from nengo_lmu.networks.linear import default_process
from nengo_lmu.systems import measure_radii, norm_radii, run_process

DT = 0.001
PROBE_SYNAPSE = 0.01


def run(system, n_neurons, process, duration, **kwargs):
    """NRMSE of the network's output against the exact system's (both through the
    probe's synapse; the network answers one step late: a Nengo synapse delivers
    its input on the next step)."""
    with nengo.Network(seed=0) as net:
        u = nengo.Node(process)
        network = LinearNetwork(system, n_neurons, input_process=process, **kwargs)
        nengo.Connection(u, network.input, synapse=None)
        p_u = nengo.Probe(u)
        p_y = nengo.Probe(network.output, synapse=PROBE_SYNAPSE)
    with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run(duration)
    exact = system.filter(sim.data[p_u], dt=DT)
    exact = nengo.Lowpass(PROBE_SYNAPSE).filt(exact, dt=DT, y0=0)
    return nrmse(sim.data[p_y][1:], exact[:-1]), network


def oscillator(hz):
    w = 2 * np.pi * hz
    return LinearSystem.from_ss([[0, -w], [w, 0]], [[1], [0]], np.eye(2))


@pytest.mark.parametrize(
    "name, system, n_neurons, process, duration, kwargs, limit",
    [
        # [2/3] Pade delay of 0.1 s, 3 Hz noise: measured 0.025
        (
            "pade",
            PadeDelay(0.1, 3),
            1500,
            nengo.processes.WhiteSignal(4.0, high=3.0, rms=0.5, y0=0),
            4.0,
            {},
            0.06,
        ),
        # the LMU (order 4, theta 0.5 s) read out at u(t - theta): measured 0.047
        (
            "lmu",
            LegendreDelay(0.5, 4),
            2000,
            nengo.processes.WhiteSignal(4.0, high=2.0, rms=0.5, y0=0),
            4.0,
            {},
            0.1,
        ),
        # an integrator (not stable: realized as given, radius measured):
        # measured 0.028
        (
            "integrator",
            LinearSystem(([1], [1, 0])),
            600,
            nengo.processes.WhiteSignal(4.0, high=2.0, rms=0.5, y0=0),
            4.0,
            {},
            0.06,
        ),
        # an undamped 1 Hz oscillator kicked by a 0.1 s pulse, then free for
        # 2.9 s: errors accumulate as phase drift; measured 0.13
        (
            "oscillator",
            oscillator(1.0),
            1000,
            nengo.processes.Piecewise({0: 5.0, 0.1: 0.0}),
            3.0,
            {"radii": 1.0},
            0.25,
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_realizes_the_system(name, system, n_neurons, process, duration, kwargs, limit):
    error, network = run(system, n_neurons, process, duration, **kwargs)
    assert error < limit, (name, error)
    # the neurons represent the same system in another basis
    assert network.realization.transfer_equal(system, rtol=1e-6)


def test_stable_systems_are_balanced_and_scaled():
    """realizer 'auto' balances a stable system (its Gramians are then diagonal up
    to the radius scaling); radii 'measured': the largest value of each exact
    realized state on the inputs it was measured for is 1 (to round-off)."""
    process = nengo.processes.WhiteSignal(10.0, high=3.0, rms=0.5, y0=0)
    with nengo.Network():
        network = LinearNetwork(
            PadeDelay(0.2, 4), 800, input_process=process, radii="measured"
        )
    realization = network.realization
    Wc = realization.controllability_gramian()
    assert np.allclose(Wc, np.diag(np.diag(Wc)), atol=1e-9 * np.max(np.abs(Wc)))
    states = LinearSystem.from_ss(
        realization.A, realization.B, np.eye(4), np.zeros((4, 1))
    )
    # the 5 trials the radii were measured on (seeds 0-4; one 10 s period each)
    peak = np.max(
        [
            np.max(
                np.abs(states.filter(run_process(process, 10000, DT, rng), dt=DT)), 0
            )
            for rng in map(np.random.RandomState, range(5))
        ],
        axis=0,
    )
    assert np.allclose(peak, 1.0, atol=1e-9)  # each state reaches its radius


def test_radii_trials_are_independent():
    """Each trial of the radius measurement draws its own input (an earlier
    version reused one seed, so its 'trials' were identical): the radii of 3
    trials are at least those of the first alone, and strictly larger for some
    state here."""
    system = PadeDelay(0.2, 3)
    one = measure_radii(system, default_process(), trials=1)
    three = measure_radii(system, default_process(), trials=3)
    assert np.all(three >= one) and np.any(three > one)


def test_feedthrough_and_several_inputs():
    """D u goes straight to the output: a system y = x + 2 u with x' = -x + u
    (two inputs summed) matches the exact system within the spiking error
    (measured 0.02)."""
    system = LinearSystem.from_ss([[-5.0]], [[5.0, 5.0]], [[1.0]], [[2.0, 0.0]])
    process = nengo.processes.WhiteSignal(3.0, high=2.0, rms=0.4, y0=0)
    with nengo.Network(seed=1) as net:
        u = nengo.Node(process, size_out=2)
        network = LinearNetwork(system, 400, input_process=process)
        nengo.Connection(u, network.input, synapse=None)
        p_u = nengo.Probe(u)
        p_y = nengo.Probe(network.output, synapse=PROBE_SYNAPSE)
    with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run(3.0)
    exact = nengo.Lowpass(PROBE_SYNAPSE).filt(
        system.filter(sim.data[p_u], dt=DT), dt=DT, y0=0
    )
    # D u has no synaptic delay; x lags by one step, which is small here
    assert nrmse(sim.data[p_y], exact) < 0.08


def test_digital_system():
    """A digital system at the simulator's dt maps exactly (discrete mapping):
    the ZOH discretization of a 0.1 s Pade delay, run as a digital system,
    matches its analog original within the spiking error (measured 0.03)."""
    analog = PadeDelay(0.1, 3)
    digital = analog.discretize(DT)
    process = nengo.processes.WhiteSignal(3.0, high=3.0, rms=0.5, y0=0)
    error, network = run(digital, 1500, process, 3.0)
    assert not network.system.analog
    assert error < 0.06, error
    with pytest.raises(ValidationError, match="digital at dt=0.001, but dt=0.002"):
        LinearNetwork(digital, 100, dt=0.002, add_to_container=False)


def test_discrete_mapping_needs_its_dt():
    with nengo.Network() as net:
        LinearNetwork(PadeDelay(0.1, 2), 100, dt=0.001)
    with pytest.raises(BuildError, match="made its transforms for dt=0.001"):
        nengo.Simulator(net, dt=0.002, progress_bar=False)


def test_bad_arguments():
    for kwargs, message in [
        ({"n_neurons": 2.5}, "n_neurons: Must be an integer"),
        ({"n_neurons": 1}, "n_neurons=1 is too small for layout 'per-dimension'"),
        ({"layout": "grid"}, "layout"),
        ({"realizer": "hankel"}, "realizer"),
        ({"radii": -1.0}, "radii must be finite and > 0"),
        ({"synapse": nengo.Alpha(0.01)}, "synapse.*first-order synapses only"),
    ]:
        arguments = {"n_neurons": 100, **kwargs}
        with pytest.raises(ValidationError, match=message):
            LinearNetwork(PadeDelay(0.1, 2), add_to_container=False, **arguments)
    with pytest.raises(ValidationError, match="balanced realization"):
        LinearNetwork(
            LinearSystem(([1], [1, 0])),
            100,
            realizer="balanced",
            add_to_container=False,
        )


def test_norm_radii_closed_forms():
    """A lowpass x' = (u - x) / tau has impulse response exp(-t/tau)/tau: its L1 norm is
    1 (the state never leaves [-1, 1] for inputs in [-1, 1]) and its H2 norm
    sqrt(1 / (2 tau)). Checked to 1e-4 (L1: trapezoidal integration at 1 % of the
    time constant) and 1e-10 (H2: a Lyapunov solve). The digital form's L1 norm is
    the sum of |h[k]| = 1 as well (ZOH keeps the DC gain)."""
    tau = 0.05
    lowpass = LinearSystem.from_ss([[-1 / tau]], [[1 / tau]], [[1.0]])
    assert np.allclose(norm_radii(lowpass, "l1"), 1.0, rtol=1e-4)
    assert np.allclose(norm_radii(lowpass, "h2"), np.sqrt(1 / (2 * tau)), rtol=1e-10)
    assert np.allclose(norm_radii(lowpass.discretize(DT), "l1"), 1.0, rtol=1e-6)
    # one state: its Hankel singular value is |H(0)| / 2, and 2 sum(sigma) = L1 = 1
    assert np.allclose(norm_radii(lowpass, "hankel"), 1.0, rtol=1e-10)
    with pytest.raises(ValidationError, match="unstable system's states are infinite"):
        norm_radii(LinearSystem(([1], [1, 0])), "l1")


def test_hankel_radii_bound_the_l1_radii():
    """2 sum(sigma) bounds the L1 norm of every state's impulse response, so the
    Hankel radii are at least the L1 radii (trapezoidal, to 1e-4) for the LMU and a
    Pade delay, and within the order times the L1 radii (measured: 1.9-2.8x)."""
    for system in (LegendreDelay(0.5, 6), PadeDelay(0.1, 4)):
        balanced = system.balanced()
        l1, hankel = norm_radii(balanced, "l1"), norm_radii(balanced, "hankel")
        assert np.all(hankel >= l1 * (1 - 1e-4)), (hankel, l1)
        assert np.all(hankel <= system.order * l1), (hankel, l1)


def test_l1_radii_bound_every_bounded_input():
    """The L1 radii are the worst case: for inputs in [-1, 1] the realized states
    of a network made with radii='l1' stay within [-1, 1] (random +-1 inputs: the
    largest |x| measured 0.62-0.77 over three seeds), and the input that follows
    the sign of a state's time-reversed impulse response reaches that state's
    radius (to 1e-2: a finite horizon of 2 s and the ZOH step)."""
    system = PadeDelay(0.1, 3)
    with nengo.Network():
        network = LinearNetwork(system, 300, radii="l1")
    states = LinearSystem.from_ss(
        network.realization.A, network.realization.B, np.eye(3)
    )
    rng = np.random.RandomState(0)
    u = np.sign(rng.standard_normal((3000, 1))).repeat(5, axis=0)
    assert np.max(np.abs(states.filter(u, dt=DT))) <= 1.0
    h = states.impulse(2000, dt=DT)[:, 0, 0]
    worst = np.sign(h[::-1])[:, None]
    assert abs(states.filter(worst, dt=DT)[-1, 0] - 1.0) < 1e-2


def test_subpopulations_reproducible_in_a_seeded_network():
    """The sub-population layout samples its neurons when constructed: in a seeded
    parent it follows the same rule as LMUMemory (the same seed, the same
    neurons; another seed, other neurons)."""

    def gains(seed):
        with nengo.Network(seed=seed) as net:
            network = LinearNetwork(PadeDelay(0.1, 2), 400, layout="subpopulations")
        with nengo.Simulator(net, progress_bar=False) as sim:
            return np.concatenate([sim.data[e].gain for e in network.all_ensembles])

    assert np.array_equal(gains(1), gains(1))
    assert not np.array_equal(gains(1), gains(2))


@pytest.mark.parametrize("realization", ["legendre", "balanced"])
def test_lmu_memory_is_a_linear_network_of_the_legendre_delay(realization):
    """LMUMemory is LinearNetwork of LegendreDelay (its states as outputs), one
    channel per input dimension: the same seed gives the same decoded memories
    from both (to 1e-12), and the output is the Legendre memory (within the
    spiking error of the exact `LegendreMemory`, measured 0.06-0.07)."""
    from nengo_lmu import LegendreMemory
    from nengo_lmu.networks import LMUMemory
    from nengo_lmu.systems import state_system

    theta, order = 0.2, 4
    process = nengo.processes.WhiteSignal(2.0, high=5.0, rms=0.4, y0=0)
    delay = LegendreDelay(theta, order)
    realizer = (
        "identity" if realization == "legendre" else delay.balancing_transform()[0]
    )
    outputs = []
    for make in (
        lambda: LMUMemory(order, theta, 1200, channels=2, realizer=realization),
        lambda: LinearNetwork(
            state_system(delay),
            1200,
            channels=2,
            realizer=realizer,
            input_process=nengo.processes.WhiteSignal(
                period=20 * theta, high=1 / theta, rms=0.5, y0=0.0
            ),
        ),
    ):
        with nengo.Network(seed=3) as net:
            u = nengo.Node(process, size_out=2)
            network = make()
            nengo.Connection(u, network.input, synapse=None)
            exact = nengo.Node(LegendreMemory(order, theta, size_in=2), size_in=2)
            nengo.Connection(u, exact, synapse=None)
            p = nengo.Probe(network.output, synapse=PROBE_SYNAPSE)
            p_exact = nengo.Probe(exact, synapse=PROBE_SYNAPSE)
        with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
            sim.run(1.0)
        outputs.append(sim.data[p])
    assert isinstance(network, LinearNetwork)
    # equal to round-off (BLAS may round differently with the arrays' alignment)
    assert np.allclose(outputs[0], outputs[1], rtol=0, atol=1e-12)
    error = nrmse(outputs[0][201:], sim.data[p_exact][200:-1])
    assert error < 0.15, error
