"""Principle 3: the mapped system, driven through the synapse, is the original."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import lmu_matrices, realize, simulate_memory
from nengo_lmu.mapping import principle3


def run_through_synapse(A_H, B_H, synapse, u_process, dt, t):
    """Drive ``x`` with ``synapse`` on ``A_H x + B_H u`` in Nengo, no neurons."""
    n = A_H.shape[0]
    with nengo.Network() as net:
        u = nengo.Node(u_process)
        x = nengo.Node(size_in=n)
        nengo.Connection(u, x, transform=B_H, synapse=synapse)
        nengo.Connection(x, x, transform=A_H, synapse=synapse)
        pu = nengo.Probe(u)
        px = nengo.Probe(x)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(t)
    return sim.data[pu], sim.data[px]


def rel_error(y, target):
    return np.linalg.norm(y - target) / np.linalg.norm(target)


@pytest.mark.parametrize("tau", [0.005, 0.05, 0.1])
@pytest.mark.parametrize("realization", ["legendre", "balanced"])
def test_discrete_lowpass_exact(tau, realization):
    """Exact at dt: the recurrent Nengo loop reproduces the ZOH system to 1e-6
    (relative), one step late (a Nengo synapse delivers its input a step later)."""
    order, theta, dt = 6, 0.5, 0.001
    real = realize(order, theta, realization)
    A_H, B_H = principle3(real.A, real.B, nengo.Lowpass(tau), "discrete", dt=dt)
    u, x = run_through_synapse(
        A_H,
        B_H,
        nengo.Lowpass(tau),
        nengo.processes.WhiteSignal(2, high=4, seed=1),
        dt,
        1.0,
    )
    m = simulate_memory(u, order, theta, dt=dt)[:, 0, :]
    assert rel_error(real.to_legendre(x[1:]), m[:-1]) < 1e-6


def test_discrete_gain_lowpass():
    """A first-order LinearFilter with DC gain 2 is handled like a lowpass."""
    order, theta, dt = 3, 0.2, 0.001
    A, B = lmu_matrices(order, theta)
    synapse = nengo.LinearFilter([2.0], [0.02, 1.0])
    A_H, B_H = principle3(A, B, synapse, "discrete", dt=dt)
    u, x = run_through_synapse(
        A_H, B_H, synapse, nengo.processes.WhiteSignal(1, high=5, seed=2), dt, 0.5
    )
    m = simulate_memory(u, order, theta, dt=dt)[:, 0, :]
    assert rel_error(x[1:], m[:-1]) < 1e-6


@pytest.mark.parametrize(
    "synapse",
    [
        nengo.Lowpass(0.05),
        nengo.LinearFilter([3.0], [0.01, 1.0]),  # gain 3
        nengo.Alpha(0.02),
        nengo.LinearFilter([1.0], [1e-4, 0.03, 1.0]),  # two real poles
    ],
)
def test_continuous_closed_loop_transfer_function(synapse):
    """With h(s) = 1 / sum c_i s^i on every dimension, the loop X = h (A_H X + B_H U)
    must satisfy sum_i c_i s^i X = A_H X + B_H U + (input-derivative terms) for
    X = (sI - A)^-1 B U. The derivative terms,
    sum_{i>=2} c_i sum_{j=1}^{i-1} A^(i-1-j) B s^j, vanish for a first-order synapse
    (then the loop is exact); for higher orders they are what the mapping leaves out,
    so the loop is exact at DC and its error grows with frequency."""
    order = 5
    A, B = lmu_matrices(order, 0.7)
    A_H, B_H = principle3(A, B, synapse, "continuous")
    num = np.trim_zeros(np.atleast_1d(synapse.num), "f")
    c = np.asarray(synapse.den)[::-1] / num[0]  # ascending powers
    for s in [0.3j, 2j, 10.0 + 5j, 40j]:
        X = np.linalg.solve(s * np.eye(order) - A, B)
        lhs = sum(ci * s**i for i, ci in enumerate(c)) * X
        derivative_terms = sum(
            c[i] * np.linalg.matrix_power(A, i - 1 - j) @ B * s**j
            for i in range(2, len(c))
            for j in range(1, i)
        )
        assert np.allclose(lhs, A_H @ X + B_H + derivative_terms, rtol=1e-9, atol=1e-12)
        inv_h = np.polyval(synapse.den, s) / num[0]
        loop = np.linalg.solve(inv_h * np.eye(order) - A_H, B_H)
        if len(c) == 2:
            assert np.allclose(loop, X, rtol=1e-9, atol=1e-12)
    # at DC every synapse gives the exact steady state
    loop_dc = np.linalg.solve(c[0] * np.eye(order) - A_H, B_H)
    assert np.allclose(loop_dc, np.linalg.solve(-A, B), rtol=1e-9)


def test_continuous_lowpass_closed_form():
    A, B = lmu_matrices(4, 1.0)
    A_H, B_H = principle3(A, B, nengo.Lowpass(0.1), "continuous")
    assert np.allclose(A_H, 0.1 * A + np.eye(4))
    assert np.allclose(B_H, 0.1 * B)


def test_continuous_converges_as_dt_shrinks():
    """The continuous mapping is exact only as dt -> 0: in Nengo its error must
    shrink about linearly with dt (measured 4 % at 1 ms, 0.4 % at 0.1 ms)."""
    order, theta, tau = 6, 0.5, 0.05
    A, B = lmu_matrices(order, theta)
    A_H, B_H = principle3(A, B, nengo.Lowpass(tau), "continuous")
    errors = []
    for dt in [1e-3, 1e-4]:
        u, x = run_through_synapse(
            A_H,
            B_H,
            nengo.Lowpass(tau),
            nengo.processes.WhiteSignal(2, high=3, seed=1),
            dt,
            1.0,
        )
        m = simulate_memory(u, order, theta, dt=dt)[:, 0, :]
        errors.append(rel_error(x[1:], m[:-1]))
    assert errors[1] < errors[0] / 5, errors
    assert errors[1] < 0.01, errors


def test_bad_synapses():
    A, B = lmu_matrices(3, 1.0)
    for synapse in [None, 0.1, nengo.synapses.Triangle(0.01)]:
        with pytest.raises(ValidationError, match="synapse: .*LinearFilter"):
            principle3(A, B, synapse, "continuous")
    with_zero = nengo.LinearFilter([0.1, 1.0], [0.01, 0.2, 1.0])
    with pytest.raises(ValidationError, match="constant numerator"):
        principle3(A, B, with_zero, "continuous")
    with pytest.raises(ValidationError, match="first-order"):
        principle3(A, B, nengo.Alpha(0.01), "discrete")
    digital = nengo.LinearFilter([0.5], [1.0, -0.5], analog=False)
    with pytest.raises(ValidationError, match="analog"):
        principle3(A, B, digital, "discrete")
    with pytest.raises(ValidationError, match="mapping.*'discrete', 'continuous'"):
        principle3(A, B, nengo.Lowpass(0.1), "bilinear")
    with pytest.raises(ValidationError, match="dt"):
        principle3(A, B, nengo.Lowpass(0.1), "discrete", dt=0)


@pytest.mark.parametrize("mapping", ["discrete", "continuous"])
def test_integrator_synapse(mapping):
    """The integrator 1/s as the synapse: continuous, A_H = A and B_H = B (c = [0,
    1]); discrete: A_H = (Ad - I) / dt, B_H = Bd / dt. Both finite (an earlier version
    divided by 1 - exp(-dt / tau) = 0 and returned NaN). The discrete loop in Nengo
    reproduces the ZOH system one step late to 1e-9 (relative); the continuous one
    is the system's forward-Euler step (Nengo holds the integrator's input for a
    step), to 1e-9, which is within 5 % of the ZOH system here (measured 2.3 %)."""
    order, theta, dt = 4, 0.3, 0.001
    A, B = lmu_matrices(order, theta)
    integrator = nengo.LinearFilter([1], [1, 0])
    A_H, B_H = principle3(A, B, integrator, mapping, dt=dt)
    assert np.all(np.isfinite(A_H)) and np.all(np.isfinite(B_H))
    if mapping == "continuous":
        assert np.allclose(A_H, A) and np.allclose(B_H, B)
    u, x = run_through_synapse(
        A_H, B_H, integrator, nengo.processes.WhiteSignal(1, high=5, seed=3), dt, 0.6
    )
    m = simulate_memory(u, order, theta, dt=dt)[:, 0, :]
    error = rel_error(x[1:], m[:-1])
    if mapping == "discrete":
        assert error < 1e-9, error
    else:
        euler = simulate_memory(u, order, theta, dt=dt, method="euler")[:, 0, :]
        assert rel_error(x[1:], euler[:-1]) < 1e-9
        assert error < 0.05, error


def test_unmappable_synapses_say_why():
    """Synapses that cannot be mapped raise, naming the synapse and the reason,
    instead of returning non-finite transforms."""
    A, B = lmu_matrices(3, 1.0)
    unstable = nengo.LinearFilter([1.0], [1.0, -1.0])  # 1 / (s - 1)
    with pytest.raises(ValidationError, match="unstable or has a negative"):
        principle3(A, B, unstable, "discrete")
    with pytest.raises(ValidationError, match=r"order 2: use mapping='continuous'"):
        principle3(A, B, nengo.LinearFilter([1], [0.01 * 0.02, 0.03, 1]), "discrete")
    with pytest.raises(ValidationError, match="non-finite transforms"):
        principle3(A * np.nan, B, nengo.Lowpass(0.1), "discrete")
