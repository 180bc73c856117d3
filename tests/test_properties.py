"""Properties of the systems layer, for random stable systems (hypothesis).

Each property is checked against an independent reference (scipy, a closed form)
on systems drawn from a seed and an order; hypothesis runs derandomized (the same
examples every run) with a bounded number of examples, so the suite stays fast
and a failure is reproducible.
"""

import nengo
import numpy as np
import pytest
import scipy.linalg
import scipy.signal
import scipy.special

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from nengo_lmu import LinearSystem, legendre_readout  # noqa: E402
from nengo_lmu.mapping import principle3  # noqa: E402

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)
seeds = st.integers(0, 2**31 - 1)
orders = st.integers(1, 6)


def random_stable(seed, order, size_in=1, size_out=1):
    """A random stable analog system: real and complex-pair poles with real
    parts in [-20, -0.5] (imaginary parts up to 20), in a random basis."""
    rng = np.random.RandomState(seed)
    blocks, n = [], 0
    while n < order:
        if order - n >= 2 and rng.rand() < 0.5:
            re, im = -rng.uniform(0.5, 20), rng.uniform(0.1, 20)
            blocks.append(np.array([[re, im], [-im, re]]))
            n += 2
        else:
            blocks.append(np.array([[-rng.uniform(0.5, 20)]]))
            n += 1
    J = scipy.linalg.block_diag(*blocks)
    T = rng.randn(order, order) + 3 * np.eye(order)  # well conditioned
    A = T @ J @ np.linalg.inv(T)
    B = rng.randn(order, size_in)
    C = rng.randn(size_out, order)
    D = rng.randn(size_out, size_in) * rng.randint(2)
    return LinearSystem((A, B, C, D))


def frequency_gain(sys, omega):
    """Largest singular value of ``C (jw - A)^-1 B + D`` at each ``omega``,
    computed here with numpy (independent of the system's own methods)."""
    A, B, C, D = sys.ss
    gains = []
    for w in omega:
        H = C @ np.linalg.solve(1j * w * np.eye(len(A)) - A, B) + D
        gains.append(np.linalg.svd(H, compute_uv=False)[0])
    return np.array(gains)


OMEGA = np.concatenate([[0.0], np.logspace(-2, 3, 300)])


@PROPERTY
@given(seed=seeds, order=orders)
def test_change_of_basis_keeps_transfer_function(seed, order):
    sys = random_stable(seed, order)
    T = np.random.RandomState(seed + 1).randn(order, order) + 2 * np.eye(order)
    other = sys.transform(T)
    A, B, C, D = sys.ss
    A2, B2, C2, D2 = other.ss
    for w in (0.0, 0.7, 5.0, 40.0):
        H = C @ np.linalg.solve(1j * w * np.eye(order) - A, B) + D
        H2 = C2 @ np.linalg.solve(1j * w * np.eye(order) - A2, B2) + D2
        assert np.allclose(H, H2, rtol=1e-7, atol=1e-9 * np.abs(H).max())


@PROPERTY
@given(seed=seeds, order=orders)
def test_balanced_gramians_equal_diagonal(seed, order):
    """The balanced realization's Gramians (solved here by scipy's Lyapunov
    solver) are equal and diagonal, with the Hankel singular values on the
    diagonal, and its transfer function is the system's."""
    sys = random_stable(seed, order)
    bal = sys.balanced()
    A, B, C, _ = bal.ss
    P = scipy.linalg.solve_continuous_lyapunov(A, -B @ B.T)
    Q = scipy.linalg.solve_continuous_lyapunov(A.T, -C.T @ C)
    hsv = sys.hankel_singular_values()
    scale = hsv.max()
    assert np.allclose(P, Q, atol=1e-7 * scale)
    assert np.allclose(P, np.diag(np.diag(P)), atol=1e-7 * scale)
    assert np.allclose(np.sort(np.diag(P))[::-1], hsv, rtol=1e-6, atol=1e-9 * scale)
    ref = np.sqrt(
        np.linalg.eigvals(
            scipy.linalg.solve_continuous_lyapunov(sys.A, -sys.B @ sys.B.T)
            @ scipy.linalg.solve_continuous_lyapunov(sys.A.T, -sys.C.T @ sys.C)
        ).real.clip(0)
    )
    # the reference (square roots of the eigenvalues of P Q) loses the smallest
    # values to rounding, ~1e-7 of the largest for these ill-conditioned draws
    assert np.allclose(np.sort(ref)[::-1], hsv, rtol=1e-6, atol=1e-6 * scale)
    assert np.allclose(frequency_gain(bal, OMEGA), frequency_gain(sys, OMEGA))


@PROPERTY
@given(seed=seeds, order=st.integers(2, 6), data=st.data())
def test_balanced_truncation_within_hankel_bound(seed, order, data):
    """Balanced truncation to r states errs (H-infinity norm of the difference)
    by at most twice the sum of the discarded Hankel singular values; the norm is
    sampled on a frequency grid, a lower bound of the true norm."""
    keep = data.draw(st.integers(1, order - 1))
    sys = random_stable(seed, order)
    hsv = sys.hankel_singular_values()
    if keep < order and np.isclose(hsv[keep - 1], hsv[keep], rtol=1e-6):
        return  # equal singular values: the truncation is not unique
    reduced = sys.balanced_truncation(keep)
    A, B, C, D = sys.ss
    Ar, Br, Cr, Dr = reduced.ss
    err = []
    for w in OMEGA:
        H = C @ np.linalg.solve(1j * w * np.eye(order) - A, B) + D
        Hr = Cr @ np.linalg.solve(1j * w * np.eye(keep) - Ar, Br) + Dr
        err.append(np.abs(H - Hr).max())
    bound = 2 * hsv[keep:].sum()
    assert max(err) <= bound * (1 + 1e-6) + 1e-12, (max(err), bound)


@PROPERTY
@given(seed=seeds, order=orders, dt=st.sampled_from([1e-4, 1e-3, 1e-2]))
def test_discretization_and_simulation_match_scipy(seed, order, dt):
    """Zero-order hold against scipy.signal.cont2discrete, and the exact
    simulation against scipy.signal.dlsim (the same time convention:
    ``y[k] = C x[k] + D u[k]``, ``x[0] = 0``)."""
    sys = random_stable(seed, order)
    Ad, Bd, Cd, Dd, _ = scipy.signal.cont2discrete(sys.ss, dt, method="zoh")
    dsys = sys.discretize(dt)
    for mine, ref in zip(dsys.ss, (Ad, Bd, Cd, Dd)):
        assert np.allclose(mine, ref, rtol=1e-9, atol=1e-12)
    u = np.random.RandomState(seed).randn(200, 1)
    _, y_ref, _ = scipy.signal.dlsim((Ad, Bd, Cd, Dd, dt), u)
    y = sys.filter(u, dt=dt)
    assert np.allclose(y.reshape(y_ref.shape), y_ref, rtol=1e-9, atol=1e-9)


@PROPERTY
@given(
    seed=seeds,
    order=orders,
    tau=st.sampled_from([0.005, 0.02, 0.1]),
    dt=st.sampled_from([1e-4, 1e-3]),
)
def test_principle3_then_synapse_gives_back_the_system(seed, order, tau, dt):
    """A lowpass ``1 / (tau s + 1)`` around the mapped system: continuous,
    ``(A_H - I) / tau = A`` and ``B_H / tau = B``; discrete, Nengo's own
    zero-order-hold lowpass (``x[k+1] = a x[k] + (1 - a) v[k]``, from
    nengo.Lowpass's discretization) closed around ``(A_H, B_H)`` is scipy's ZOH
    step of the system."""
    sys = random_stable(seed, order)
    A, B = sys.A, sys.B
    syn = nengo.Lowpass(tau)
    A_H, B_H = principle3(A, B, syn, "continuous")[:2]
    assert np.allclose((A_H - np.eye(order)) / tau, A, rtol=1e-9, atol=1e-9)
    assert np.allclose(B_H / tau, B, rtol=1e-9, atol=1e-12)

    A_H, B_H = principle3(A, B, syn, "discrete", dt)[:2]
    step = syn.make_step((1,), (1,), dt, rng=None, state=syn.make_state((1,), (1,), dt))
    x_next = step(0.0, np.ones(1))  # from rest, one step of input 1: 1 - a
    g = float(x_next[0])
    a = 1 - g
    Ad, Bd = scipy.signal.cont2discrete((A, B, np.eye(order), 0), dt, "zoh")[:2]
    assert np.allclose(a * np.eye(order) + g * A_H, Ad, rtol=1e-8, atol=1e-10)
    assert np.allclose(g * B_H, Bd, rtol=1e-8, atol=1e-12)


@PROPERTY
@given(order=st.integers(1, 40), r=st.floats(0.0, 1.0))
def test_legendre_readout_is_shifted_legendre(order, r):
    """``legendre_readout(order, r)[i] = P_i(2 r - 1)`` (scipy's Legendre
    polynomials), the readout of ``u(t - r theta)``."""
    row = np.ravel(legendre_readout(order, r))
    ref = scipy.special.eval_legendre(np.arange(order), 2 * r - 1)
    assert np.allclose(row, ref, rtol=1e-10, atol=1e-10)
