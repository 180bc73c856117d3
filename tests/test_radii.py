"""The radii of a system's states: from the input's spectrum, measured, from norms."""

import nengo
import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu import LegendreDelay, LinearSystem, PadeDelay
from nengo_lmu.networks import LinearNetwork, LMUMemory
from nengo_lmu.systems import (
    default_input_process,
    measure_radii,
    norm_radii,
    process_radii,
    realize,
    run_process,
    spectral_radii,
    state_system,
)
from nengo_lmu.systems.radii import PEAK_FACTOR

DT = 0.001


def empirical_std(system, process, n_draws, seed=0):
    """Each state's standard deviation in steady state, over ``n_draws`` draws of
    a periodic process: the exact system runs two periods from rest and the
    second is kept (the response to a periodic input is periodic once the
    transient has died out)."""
    n = int(round(process.period / DT))
    states = state_system(system)
    kept = []
    for k in range(n_draws):
        u = run_process(process, 2 * n, DT, np.random.RandomState(seed + k), d=1)
        kept.append(states.filter(u, dt=DT)[n:])
    return np.sqrt(np.mean(np.concatenate(kept) ** 2, axis=0))


@pytest.mark.parametrize(
    "name, system, process",
    [
        (
            "lowpass",
            LinearSystem(([1.0], [0.05, 1.0])),
            nengo.processes.WhiteSignal(2.0, high=10.0, rms=0.5),
        ),
        ("legendre", LegendreDelay(0.2, 6), default_input_process(0.2)),
        (
            "pade-balanced",
            PadeDelay(0.1, 4).balanced(),
            nengo.processes.WhiteSignal(2.0, high=5.0, rms=0.3),
        ),
    ],
)
def test_spectral_radii_match_the_states_spread(name, system, process):
    """`spectral_radii` is PEAK_FACTOR standard deviations of each state: against
    the spread of the exact system's states over 40 draws of the process, within
    12 % (the draws' sampling error in the standard deviation is about 3 % for
    the narrowest-band state here)."""
    sigma = spectral_radii(system, process, dt=DT) / PEAK_FACTOR
    measured = empirical_std(system, process, n_draws=40)
    assert np.allclose(sigma, measured, rtol=0.12), (name, sigma, measured)


def test_spectral_radii_of_a_lowpass_closed_form():
    """A lowpass ``1 / (tau s + 1)`` passes the sinusoid at ``f`` with gain
    ``1 / sqrt(1 + (2 pi f tau)^2)``: the state's variance is ``rms^2`` times the
    mean squared gain over the signal's frequencies ``k / period``, ``k = 1 ...
    high * period`` (to 1e-12)."""
    tau, period, high, rms = 0.05, 2.0, 10.0, 0.5
    process = nengo.processes.WhiteSignal(period, high=high, rms=rms)
    f = np.arange(1, int(high * period) + 1) / period
    sigma = rms * np.sqrt(np.mean(1 / (1 + (2 * np.pi * f * tau) ** 2)))
    lowpass = LinearSystem.from_ss([[-1 / tau]], [[1 / tau]], [[1.0]])  # x = y
    radii = spectral_radii(lowpass, process, dt=DT)
    assert np.allclose(radii, PEAK_FACTOR * sigma, rtol=1e-12)


def test_spectral_radii_digital_matches_analog():
    """The ZOH discretization at 1 ms of the memory has the same spectrum up to
    10 Hz within 1 % (its frequency response differs by O(f dt))."""
    system = LegendreDelay(0.2, 6)
    process = default_input_process(0.2)
    analog = spectral_radii(system, process, dt=DT)
    digital = spectral_radii(system.discretize(DT), process, dt=DT)
    assert np.allclose(digital, analog, rtol=0.01)


def test_measured_peaks_are_about_three_standard_deviations():
    """What PEAK_FACTOR stands in for: the largest value a state reaches on the
    default input (5 draws of one period, `measure_radii`) came to 2.7-4.1
    standard deviations for Legendre, balanced and Pade realizations of orders 3
    to 6; checked within [2.5, 4.5]."""
    for order, theta in [(3, 0.2), (6, 0.1), (6, 1.0)]:
        process = default_input_process(theta)
        for system in (
            LegendreDelay(theta, order),
            LegendreDelay(theta, order).balanced(),
            PadeDelay(theta, order).balanced(),
        ):
            sigma = spectral_radii(system, process, dt=DT) / PEAK_FACTOR
            ratio = measure_radii(system, process, dt=DT) / sigma
            assert np.all((2.5 < ratio) & (ratio < 4.5)), (order, theta, ratio)


def test_spectral_radii_bad_input():
    """A process without a known spectrum, or an unstable system, is refused
    with the parameter named."""
    with pytest.raises(ValidationError, match="WhiteSignal"):
        spectral_radii(LegendreDelay(0.1, 3), nengo.processes.WhiteNoise())
    integrator = LinearSystem(([1.0], [1.0, 0.0]))
    with pytest.raises(ValidationError, match="unstable"):
        spectral_radii(integrator, default_input_process(0.1))


def test_process_radii_chooses_spectral_or_measured():
    """`process_radii`: the spectrum for a WhiteSignal into a stable system, a
    measurement for any other process or an unstable system (what it says it
    did, and the same numbers as calling that function)."""
    system = PadeDelay(0.1, 3)
    white = default_input_process(0.1)
    radii, how = process_radii(system, white)
    assert how == "spectral" and np.array_equal(radii, spectral_radii(system, white))
    noise = nengo.processes.FilteredNoise(synapse=nengo.Lowpass(0.05))
    radii, how = process_radii(system, noise, duration=2.0)
    assert how == "measured"
    assert np.array_equal(radii, measure_radii(system, noise, duration=2.0))
    integrator = LinearSystem(([1.0], [1.0, 0.0]))
    assert process_radii(integrator, white, duration=2.0)[1] == "measured"


def test_measure_radii_fft_matches_filter():
    """For a stable system the measurement convolves with the truncated impulse
    response (FFT); for an unstable one it runs `LinearSystem.filter`: both give
    the same peaks as a direct simulation of the draws (to 1e-9)."""
    process = nengo.processes.WhiteSignal(2.0, high=5.0, rms=0.5, y0=0)
    for system in (PadeDelay(0.1, 4).balanced(), LinearSystem(([1.0], [1.0, 0.0]))):
        radii = measure_radii(system, process, dt=DT, trials=2)
        peaks = np.max(
            [
                np.max(
                    np.abs(
                        state_system(system).filter(
                            run_process(process, 2000, DT, np.random.RandomState(k)),
                            dt=DT,
                        )
                    ),
                    axis=0,
                )
                for k in range(2)
            ],
            axis=0,
        )
        assert np.allclose(radii, peaks, rtol=1e-9)


def test_realization_state_radii_is_measure_radii():
    """`Realization.state_radii` is `measure_radii` on the realization's states
    (one implementation), the ball option included."""
    real = realize(5, 0.3, "balanced")
    process = default_input_process(0.3)
    for ball in (False, True):
        assert np.array_equal(
            real.state_radii(process, n_trials=2, ball=ball),
            measure_radii(real.system, process, trials=2, duration=6.0, ball=ball),
        )


def test_networks_default_radii_are_spectral():
    """An LMUMemory's and a LinearNetwork's default radii come from the input's
    spectrum (nothing simulated): PEAK_FACTOR standard deviations of the realized
    states (to 1e-12); given another process they are measured on it."""
    theta, order = 0.2, 5
    with nengo.Network():
        memory = LMUMemory(order, theta, 500, realizer="balanced")
        network = LinearNetwork(PadeDelay(0.1, 3), 300)
        noise = nengo.processes.FilteredNoise(synapse=nengo.Lowpass(0.05))
        measured = LMUMemory(order, theta, 500, input_process=noise)
    balanced = state_system(LegendreDelay(theta, order)).transform(
        LegendreDelay(theta, order).balancing_transform()[0]
    )
    expected = spectral_radii(balanced, default_input_process(theta))
    assert np.allclose(memory.radii, expected, rtol=1e-12)
    expected = spectral_radii(
        PadeDelay(0.1, 3).balanced(), network.default_input_process()
    )
    assert np.allclose(network.radii, expected, rtol=1e-12)
    expected = measure_radii(state_system(LegendreDelay(theta, order)), noise)
    assert np.allclose(measured.radii, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "system",
    [
        PadeDelay(0.1, 2, 2),
        PadeDelay(0.1, 3),
        PadeDelay(0.1, 4, 4),
        LegendreDelay(0.1, 6),
    ],
    ids=["pade-2-2", "pade-3", "pade-4-4", "legendre-6"],
)
def test_l1_radii_are_an_upper_bound(system):
    """``radii="l1"`` bounds each state for every input in [-1, 1]: never below
    the L1 norm of the state's impulse response (scipy.integrate.quad of
    ``|e^{A t} B|``, 1e-12 relative, on 10 ms pieces), and within 1e-6 above it.
    (Trapezoidal sampling was 8e-6 below for these Pade delays: nengolib's cases.)
    """
    A, B = system.A, system.B
    radii = norm_radii(system, "l1")
    edges = np.linspace(0, 4.0, 401)  # the responses decay below 1e-12 by 4 s
    for i, radius in enumerate(radii):

        def h(t, i=i):
            return abs((scipy.linalg.expm(A * t) @ B)[i, 0])

        ref = sum(
            scipy.integrate.quad(h, a, b, epsabs=1e-15, epsrel=1e-12, limit=200)[0]
            for a, b in zip(edges[:-1], edges[1:])
        )
        assert ref <= radius <= ref * (1 + 1e-6), (i, radius, ref)
