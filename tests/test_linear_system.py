"""LinearSystem, LegendreDelay and PadeDelay against independent references:
scipy.signal, scipy.interpolate.pade, nengo's own synapses and closed forms.

Tolerances: 1e-12 relative where both sides are a few floating-point operations
from the same numbers (rounding only); 1e-10 where one side goes through an
eigenvalue problem, a matrix exponential or thousands of recursion steps (rounding
accumulates); looser bounds are stated where they are used."""

import math
import pickle

import nengo
import numpy as np
import pytest
import scipy.interpolate
import scipy.linalg
import scipy.signal
from nengo.exceptions import ValidationError

from nengo_lmu.systems.delays import LegendreDelay, PadeDelay
from nengo_lmu.systems.legendre import lmu_matrices
from nengo_lmu.systems.linear import LinearSystem, LinearSystemProcess


def relative_error(actual, expected):
    """Largest absolute difference, relative to the largest expected magnitude."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return np.max(np.abs(actual - expected)) / np.max(np.abs(expected))


def random_system(rng, n, k, p, dt=None, feedthrough=True):
    """A random stable system: analog poles with real parts in [-0.5 - 2, -0.5]
    (about), digital poles with moduli <= 0.6."""
    M = rng.standard_normal((n, n)) / np.sqrt(n)
    eigenvalues = np.linalg.eigvals(M)
    if dt is None:
        A = M - (np.max(eigenvalues.real) + 0.5) * np.eye(n)
    else:
        A = 0.6 * M / np.max(np.abs(eigenvalues))
    B = rng.standard_normal((n, k))
    C = rng.standard_normal((p, n))
    D = rng.standard_normal((p, k)) if feedthrough else np.zeros((p, k))
    sys = LinearSystem((A, B, C, D), dt=dt)
    assert sys.is_stable
    return sys


def root_distance(roots, expected):
    """Largest distance from each expected root to its nearest unmatched root,
    relative to the largest expected magnitude (sorting conjugate pairs is not
    stable under rounding, so roots are matched greedily instead)."""
    roots, expected = list(np.asarray(roots)), np.asarray(expected)
    assert len(roots) == expected.size, (roots, expected)
    worst = 0.0
    for root in expected:
        i = int(np.argmin(np.abs(np.asarray(roots) - root)))
        worst = max(worst, abs(roots.pop(i) - root))
    return worst / np.max(np.abs(expected))


def monic(num, den):
    """``num / den`` with leading zeros trimmed and ``den`` monic."""
    num = np.trim_zeros(np.atleast_1d(np.asarray(num, dtype=float)).ravel(), "f")
    den = np.trim_zeros(np.atleast_1d(np.asarray(den, dtype=float)).ravel(), "f")
    return num / den[0], den / den[0]


def padded_tf(num, den):
    """``num / den`` monic, ``num`` zero-padded to the length of ``den``."""
    num, den = monic(num, den)
    return np.concatenate([np.zeros(den.size - num.size), num]), den


# -- construction and conversions -----------------------------------------------

TRANSFER_FUNCTIONS = [
    ([1.0], [0.1, 1.0]),  # lowpass
    ([2.0, 3.0], [1.0, 3.0, 2.0]),  # a zero, two real poles
    ([1.0, 0.5, 4.0], [2.0, 1.0, 3.0]),  # biproper (D != 0), complex poles
    ([0.0, 0.0, 1.0], [1.0, 0.2, 1.0, 0.3]),  # leading zeros in num
]


# scipy warns that the leading numerator coefficients it trims are (near) zero
@pytest.mark.filterwarnings("ignore::scipy.signal.BadCoefficients")
@pytest.mark.parametrize("num, den", TRANSFER_FUNCTIONS)
def test_from_tf_matches_scipy(num, den):
    """Our controllable canonical form is scipy.signal.tf2ss's, and converting it
    back with scipy.signal.ss2tf (characteristic polynomials) gives the transfer
    function we started from. Measured errors <= 2e-15; tolerance 1e-12
    (rounding of a few operations on O(1) coefficients)."""
    sys = LinearSystem.from_tf(num, den)
    assert sys.analog and sys.dt is None
    for ours, ref in zip(sys.ss, scipy.signal.tf2ss(num, den)):
        assert np.allclose(ours, ref, rtol=1e-12, atol=1e-12)
    num_ref, den_ref = padded_tf(num, den)
    num_scipy, den_scipy = scipy.signal.ss2tf(*sys.ss)
    assert relative_error(num_scipy[0], num_ref) < 1e-12
    assert relative_error(den_scipy, den_ref) < 1e-12
    num_ours, den_ours = sys.tf
    assert relative_error(num_ours, num_ref) < 1e-12
    assert relative_error(den_ours, den_ref) < 1e-12
    # the 2-tuple constructor is from_tf
    assert np.array_equal(LinearSystem((num, den)).A, sys.A)


# ss2zpk warns when a strictly proper system's leading num coefficient is ~0
@pytest.mark.filterwarnings("ignore::scipy.signal.BadCoefficients")
def test_tf_and_zpk_match_scipy_on_random_systems(rng):
    """tf and zpk of random order-6 SISO systems against scipy.signal.ss2tf and
    ss2zpk. Coefficients: measured 3e-16, tolerance 1e-10. Zeros are roots of a
    polynomial (scipy) or generalized eigenvalues (ours), both ill-conditioned
    near clusters: measured 2e-13 (over 20 draws: 3e-13), tolerance 1e-8
    relative to the largest."""
    for trial in range(5):
        sys = random_system(rng, 6, 1, 1, feedthrough=trial % 2 == 0)
        num_ref, den_ref = scipy.signal.ss2tf(*sys.ss)
        num, den = sys.tf
        assert relative_error(num, num_ref[0]) < 1e-10
        assert relative_error(den, den_ref) < 1e-10
        z, p, k = sys.zpk
        z_ref, p_ref, k_ref = scipy.signal.ss2zpk(*sys.ss)
        assert z.size == z_ref.size == (6 if trial % 2 == 0 else 5)
        assert root_distance(z, z_ref) < 1e-8
        assert root_distance(p, p_ref) < 1e-10
        assert abs(k - k_ref) < 1e-10 * abs(k_ref)


def test_from_zpk_matches_scipy():
    """A system from zeros, poles and gain against scipy.signal.freqresp of the
    same zpk; our zpk gives them back. Measured <= 1e-15; tolerance 1e-12 and
    1e-10 (eigenvalues)."""
    z = [-3.0, 1.0 + 2.0j, 1.0 - 2.0j]
    p = [-1.0, -2.0 + 5.0j, -2.0 - 5.0j, -0.5]
    k = 2.5
    sys = LinearSystem.from_zpk(z, p, k)
    omega = np.geomspace(1e-2, 1e3, 200)
    _, H_ref = scipy.signal.freqresp((z, p, k), omega)
    assert relative_error(sys.frequency_response(omega), H_ref) < 1e-12
    z2, p2, k2 = sys.zpk
    assert root_distance(z2, z) < 1e-10
    assert root_distance(p2, p) < 1e-10
    assert abs(k2 - k) < 1e-12
    # scipy's own realization of the same zpk has the same transfer function
    assert sys.transfer_equal(LinearSystem(scipy.signal.zpk2ss(z, p, k)))


def test_from_synapse_lowpass_alpha_and_integrator():
    """nengo's synapses: Lowpass(0.1) is 1 / (0.1 s + 1), Alpha(tau) is
    1 / (tau s + 1)^2 and LinearFilter([1], [1, 0]) the integrator 1 / s (analog,
    one pole at 0, not stable, so no Gramian). Exact coefficients up to the one
    division that makes den monic: tolerance 1e-12."""
    sys = LinearSystem.from_synapse(nengo.Lowpass(0.1))
    num, den = sys.tf
    assert np.allclose(num, [0.0, 10.0], rtol=1e-12, atol=1e-12)
    assert np.allclose(den, [1.0, 10.0], rtol=1e-12, atol=0)
    assert sys.transfer_equal(LinearSystem(([1.0], [0.1, 1.0])))
    assert sys.transfer_equal(LinearSystem(nengo.Lowpass(0.1)))

    tau = 0.02
    alpha = LinearSystem.from_synapse(nengo.Alpha(tau))
    num, den = alpha.tf
    assert np.allclose(den, [1.0, 2 / tau, 1 / tau**2], rtol=1e-12, atol=0)
    assert np.allclose(num, [0.0, 0.0, 1 / tau**2], rtol=1e-12, atol=1e-9)

    integrator = LinearSystem.from_synapse(nengo.LinearFilter([1], [1, 0]))
    assert integrator.analog and integrator.order == 1
    assert np.array_equal(integrator.poles, [0.0])
    assert not integrator.is_stable
    with pytest.raises(ValidationError, match="only defined for a stable system"):
        integrator.controllability_gramian()
    with pytest.raises(ValidationError, match="stable"):
        integrator.balanced()

    digital = LinearSystem.from_synapse(
        nengo.LinearFilter([1], [1, -0.5], analog=False), dt=0.01
    )
    assert not digital.analog and digital.dt == 0.01 and digital.is_stable
    with pytest.raises(ValidationError, match="dt: Must be given for a digital"):
        LinearSystem.from_synapse(nengo.LinearFilter([1], [1, -0.5], analog=False))
    with pytest.raises(ValidationError, match="dt: Must be None for an analog"):
        LinearSystem.from_synapse(nengo.Lowpass(0.1), dt=0.001)
    with pytest.raises(ValidationError, match="synapse: Must be a nengo.LinearFilter"):
        LinearSystem.from_synapse(nengo.synapses.Triangle(0.1))


@pytest.mark.parametrize("synapse", [nengo.Lowpass(0.05), nengo.Alpha(0.01)])
def test_filter_matches_nengo_synapse(synapse):
    """nengo simulates a strictly proper synapse one step earlier than our
    convention (documented in from_synapse): ours[k + 1] == nengo's[k]. Both ZOH
    at the same dt: measured 4e-16 (Lowpass) and 4e-15 (Alpha), tolerance
    1e-12."""
    dt = 0.001
    u = np.sin(np.arange(500) * dt * 2 * np.pi * 3.0) + 0.3
    ours = LinearSystem.from_synapse(synapse).filter(u, dt=dt)
    # (2-D: nengo 4.1's filt fails on 1-D signals under numpy 2)
    theirs = synapse.filt(u[:, None], dt=dt, y0=0)[:, 0]
    assert ours[0] == 0.0
    assert relative_error(ours[1:], theirs[:-1]) < 1e-12


def test_constructor_accepts_ss_lists_and_systems():
    A, B, C, D = [[-1.0, 0.5], [0.0, -2.0]], [[1.0], [1.0]], [[1.0, 2.0]], [[0.5]]
    sys = LinearSystem((A, B, C, D))
    assert (sys.order, sys.size_in, sys.size_out) == (2, 1, 1)
    assert np.array_equal(LinearSystem([A, B, C, D]).A, sys.A)
    assert np.array_equal(LinearSystem.from_ss(A, B, C, D).D, sys.D)
    # 1-D B is a column, 1-D C a row, D defaults to zero
    short = LinearSystem.from_ss(A, [1.0, 1.0], [1.0, 2.0])
    assert short.B.shape == (2, 1) and short.C.shape == (1, 2)
    assert np.array_equal(short.D, [[0.0]])
    copy = LinearSystem(sys)
    assert copy is not sys and np.array_equal(copy.C, sys.C)
    digital = LinearSystem(sys.discretize(0.1), dt=0.1)
    assert digital.dt == 0.1
    assert "order=2" in repr(sys) and "dt=None" in repr(sys)


def test_matrices_are_read_only_copies():
    A = np.array([[-1.0]])
    sys = LinearSystem((A, [[1.0]], [[1.0]], [[0.0]]))
    A[0, 0] = 5.0
    assert sys.A[0, 0] == -1.0
    with pytest.raises(ValueError, match="read-only"):
        sys.A[0, 0] = 2.0
    restored = pickle.loads(pickle.dumps(sys))
    assert np.array_equal(restored.A, sys.A) and not restored.A.flags.writeable


def test_pure_gain_has_no_state():
    """A transfer function of degree 0 is a gain: order 0, D only."""
    sys = LinearSystem(([3.0], [2.0]))
    assert sys.order == 0 and np.array_equal(sys.D, [[1.5]])
    assert sys.is_stable
    assert np.array_equal(sys.filter([1.0, 2.0], dt=0.1), [1.5, 3.0])
    assert np.allclose(sys.frequency_response([0.0, 10.0]), 1.5)
    assert np.array_equal(sys.discretize(0.1).impulse(3), [1.5, 0.0, 0.0])
    assert sys.hankel_singular_values().size == 0
    assert sys.balanced().transfer_equal(sys)
    assert sys.tf == (np.array([1.5]), np.array([1.0]))


# -- discretization -------------------------------------------------------------


def test_discretize_zoh_euler_bilinear(rng):
    """ZOH against the exponential of the augmented matrix [[A, B], [0, 0]] dt
    (Van Loan, computed here with scipy.linalg.expm): measured <= 8e-16,
    tolerance 1e-12. Euler against its formula (exact). Bilinear against the frequency
    warping it implies, H_d(exp(j w dt)) = H((2/dt) j tan(w dt / 2)): measured
    <= 8e-16, tolerance 1e-10 (a tangent near Nyquist amplifies rounding)."""
    sys = random_system(rng, 4, 2, 3)
    dt = 0.05
    A, B, C, D = sys.ss

    zoh = sys.discretize(dt)
    assert not zoh.analog and zoh.dt == dt
    M = np.zeros((6, 6))
    M[:4, :4], M[:4, 4:] = A * dt, B * dt
    E = scipy.linalg.expm(M)
    assert relative_error(zoh.A, E[:4, :4]) < 1e-12
    assert relative_error(zoh.B, E[:4, 4:]) < 1e-12
    assert np.array_equal(zoh.C, C) and np.array_equal(zoh.D, D)

    euler = sys.discretize(dt, method="euler")
    assert np.array_equal(euler.A, np.eye(4) + dt * A)
    assert np.array_equal(euler.B, dt * B)

    bilinear = sys.discretize(dt, method="bilinear")
    omega = np.linspace(0.1, 0.99 * np.pi / dt, 100)
    warped = 2 / dt * np.tan(omega * dt / 2)
    H_ref = sys.frequency_response(warped)
    assert relative_error(bilinear.frequency_response(omega), H_ref) < 1e-10

    for method in ("zoh", "bilinear"):
        ref = scipy.signal.cont2discrete(sys.ss, dt, method=method)
        ours = sys.discretize(dt, method=method).ss
        for M_ours, M_ref in zip(ours, ref[:4]):
            assert np.allclose(M_ours, M_ref, rtol=1e-12, atol=1e-14)


# -- responses ------------------------------------------------------------------


def test_impulse_digital_matches_dimpulse(rng):
    """h[k, i, j] against scipy.signal.dimpulse (one simulation per input):
    measured 1e-16, tolerance 1e-12. (dt = 0.5: dimpulse returns one sample
    short for some n when n * dt is not exact in binary, e.g. dt = 0.01, n = 60.)"""
    sys = random_system(rng, 5, 2, 3, dt=0.5)
    h = sys.impulse(60)
    assert h.shape == (60, 3, 2)
    _, y_ref = scipy.signal.dimpulse((*sys.ss, sys.dt), n=60)
    for j in range(2):
        assert relative_error(h[:, :, j], y_ref[j]) < 1e-12
    assert np.array_equal(h[0], sys.D)
    assert np.array_equal(sys.impulse(5, dt=0.5), sys.impulse(5))


def test_impulse_analog_lowpass_and_scipy(rng):
    """The lowpass 1 / (tau s + 1) has h(t) = exp(-t / tau) / tau: measured 4e-16,
    tolerance 1e-12 (k products with exp(-dt / tau)). A random SISO system
    against scipy.signal.impulse (which propagates expm per sample): measured
    1.5e-15, tolerance 1e-10."""
    tau, dt = 0.1, 0.003
    t = np.arange(400) * dt
    h = LinearSystem(([1.0], [tau, 1.0])).impulse(400, dt=dt)
    assert relative_error(h, np.exp(-t / tau) / tau) < 1e-12

    sys = random_system(rng, 5, 1, 1, feedthrough=False)
    _, h_ref = scipy.signal.impulse(sys.ss, T=t)
    assert relative_error(sys.impulse(400, dt=dt), h_ref) < 1e-10


def test_frequency_response_matches_scipy(rng):
    """Every input-output channel against scipy.signal.freqresp (analog) and
    dfreqresp (digital, at w = omega dt), both of which go through the transfer
    function's polynomials: measured 9e-15, tolerance 1e-10 (polynomial
    evaluation at high frequency loses a few digits)."""
    omega = np.geomspace(1e-2, 1e3, 150)
    analog = random_system(rng, 5, 2, 2)
    digital = random_system(rng, 5, 2, 2, dt=0.002)
    H_a = analog.frequency_response(omega)
    H_d = digital.frequency_response(omega)
    assert H_a.shape == H_d.shape == (150, 2, 2)
    A, B, C, D = analog.ss
    Ad, Bd, Cd, Dd = digital.ss
    for i in range(2):
        for j in range(2):
            channel = (A, B[:, [j]], C[[i]], D[[i]][:, [j]])
            _, ref = scipy.signal.freqresp(channel, omega)
            assert relative_error(H_a[:, i, j], ref) < 1e-10
            channel = (Ad, Bd[:, [j]], Cd[[i]], Dd[[i]][:, [j]], digital.dt)
            _, ref = scipy.signal.dfreqresp(channel, omega * digital.dt)
            assert relative_error(H_d[:, i, j], ref) < 1e-10
    lowpass = LinearSystem(([1.0], [0.1, 1.0]))
    H = lowpass.frequency_response(omega)
    assert H.shape == (150,)
    assert relative_error(H, 1 / (0.1j * omega + 1)) < 1e-14


def test_filter_matches_dlsim_and_lsim(rng):
    """Digital MIMO against scipy.signal.dlsim, analog against scipy.signal.lsim
    with a zero-order hold (interp=False): the same recursion, computed
    differently. 2000 steps: measured <= 1.4e-15, tolerance 1e-10."""
    n_steps, dt = 2000, 0.005
    u = rng.standard_normal((n_steps, 2))
    digital = random_system(rng, 4, 2, 3, dt=dt)
    _, y_ref, _ = scipy.signal.dlsim((*digital.ss, dt), u)
    y = digital.filter(u)
    assert y.shape == (n_steps, 3)
    assert relative_error(y, y_ref) < 1e-10

    analog = random_system(rng, 4, 2, 3)
    t = np.arange(n_steps) * dt
    _, y_ref, _ = scipy.signal.lsim(analog.ss, u, t, interp=False)
    assert relative_error(analog.filter(u, dt=dt), y_ref) < 1e-10

    siso = LegendreDelay(0.2, 6)
    y = siso.filter(u[:, 0], dt=dt)
    assert y.shape == (n_steps,)
    _, y_ref, _ = scipy.signal.lsim(siso.ss, u[:, 0], t, interp=False)
    assert relative_error(y, y_ref) < 1e-10


# -- stability, Gramians, balancing ---------------------------------------------


def test_gramians_of_one_state_closed_form():
    """x' = a x + b u, y = c x: Wc = b^2 / (2|a|), Wo = c^2 / (2|a|), Hankel
    singular value |b c| / (2|a|) (= |H(0)| / 2). Digital x[k+1] = a x[k] + b u:
    Wc = b^2 / (1 - a^2). Tolerance 1e-14 (a handful of operations)."""
    a, b, c = -3.0, 2.0, 5.0
    sys = LinearSystem(([[a]], [[b]], [[c]], [[0.0]]))
    assert abs(sys.controllability_gramian()[0, 0] - b**2 / (2 * abs(a))) < 1e-14
    assert abs(sys.observability_gramian()[0, 0] - c**2 / (2 * abs(a))) < 1e-14
    hsv = sys.hankel_singular_values()
    assert abs(hsv[0] - abs(b * c) / (2 * abs(a))) < 1e-14
    assert np.allclose(LinearSystem(nengo.Lowpass(0.1)).hankel_singular_values(), 0.5)

    a = 0.6
    digital = LinearSystem(([[a]], [[b]], [[c]], [[0.0]]), dt=0.1)
    assert abs(digital.controllability_gramian()[0, 0] - b**2 / (1 - a**2)) < 1e-14
    assert abs(digital.observability_gramian()[0, 0] - c**2 / (1 - a**2)) < 1e-14


def test_gramians_match_direct_solutions(rng):
    """Analog Gramians against the Kronecker-product linear system
    (I (x) A + A (x) I) vec(W) = -vec(B B^T); digital ones against the series
    sum_k A^k B B^T (A^T)^k (spectral radius ~0.6: 200 terms leave < 1e-40).
    Hankel singular values against sqrt(eig(Wc Wo)). Measured <= 2e-15;
    tolerance 1e-10."""
    n = 5
    analog = random_system(rng, n, 2, 3)
    A, B, C, _ = analog.ss
    K = np.kron(np.eye(n), A) + np.kron(A, np.eye(n))
    Wc_ref = np.linalg.solve(K, -(B @ B.T).ravel()).reshape(n, n)
    Wo_ref = np.linalg.solve(K.T, -(C.T @ C).ravel()).reshape(n, n)
    Wc, Wo = analog.controllability_gramian(), analog.observability_gramian()
    assert relative_error(Wc, Wc_ref) < 1e-10
    assert relative_error(Wo, Wo_ref) < 1e-10
    hsv_ref = np.sort(np.sqrt(np.linalg.eigvals(Wc_ref @ Wo_ref).real))[::-1]
    assert relative_error(analog.hankel_singular_values(), hsv_ref) < 1e-10

    digital = random_system(rng, n, 2, 3, dt=0.01)
    A, B, C, _ = digital.ss
    Wc_ref, Wo_ref = np.zeros((n, n)), np.zeros((n, n))
    X, Y = B, C.T
    for _ in range(200):
        Wc_ref += X @ X.T
        Wo_ref += Y @ Y.T
        X, Y = A @ X, A.T @ Y
    assert relative_error(digital.controllability_gramian(), Wc_ref) < 1e-10
    assert relative_error(digital.observability_gramian(), Wo_ref) < 1e-10


@pytest.mark.parametrize("order", [4, 8, 12])
def test_hankel_singular_values_do_not_depend_on_the_basis(order):
    """LegendreDelay and PadeDelay are different realizations of one transfer
    function, so they have the same Hankel singular values (the Pade form's
    Gramians are solved in a diagonally rescaled basis: unscaled, order 10 came
    out 2000 % off). Measured <= 3e-14; tolerance 1e-10 relative to the
    largest."""
    hsv_legendre = LegendreDelay(1.0, order).hankel_singular_values()
    hsv_pade = PadeDelay(1.0, order).hankel_singular_values()
    assert np.all(np.diff(hsv_legendre) <= 0)
    assert relative_error(hsv_pade, hsv_legendre) < 1e-10


def balanced_systems():
    rng = np.random.RandomState(7)
    return {
        "legendre-8": LegendreDelay(1.0, 8),
        "pade-10": PadeDelay(0.5, 10),
        "mimo-analog": random_system(rng, 6, 2, 3),
        "mimo-digital": random_system(rng, 6, 2, 3, dt=0.01),
    }


@pytest.mark.parametrize("name", list(balanced_systems()))
def test_balanced_realization(name):
    """Both Gramians of the balanced realization equal diag(Hankel singular
    values): measured <= 3e-14 relative to the largest; tolerance 1e-8. Its
    transfer function is the original's (transfer_equal, rtol 1e-8)."""
    sys = balanced_systems()[name]
    balanced = sys.balanced()
    hsv = sys.hankel_singular_values()
    Sigma = np.diag(hsv)
    assert relative_error(balanced.controllability_gramian(), Sigma) < 1e-8
    assert relative_error(balanced.observability_gramian(), Sigma) < 1e-8
    assert balanced.transfer_equal(sys)
    assert balanced.dt == sys.dt


def test_balanced_realization_is_unique():
    """With distinct Hankel singular values the balanced realization is unique up
    to the signs of its states, which balanced() fixes: balancing the Legendre
    and the Pade realizations of one transfer function gives the same matrices.
    Measured 4e-14 relative to the largest entry (order 8; order 12: 2e-12);
    tolerance 1e-8."""
    legendre = LegendreDelay(0.3, 8).balanced()
    pade = PadeDelay(0.3, 8).balanced()
    for M1, M2 in zip(legendre.ss, pade.ss):
        assert np.allclose(M1, M2, rtol=0, atol=1e-8 * np.max(np.abs(M1)))


@pytest.mark.parametrize("name", list(balanced_systems()))
def test_balanced_truncation_error_bound(name):
    """||H - H_r||_inf <= 2 sum_{i > r} sigma_i (Enns 1984, Glover 1984; the same
    bound holds for digital systems), the H-infinity norm measured as the largest
    singular value of H - H_r on 3000 log-spaced frequencies (up to 1e4 rad/s,
    or Nyquist), which can only underestimate it. Measured ratios of error to
    bound: 0.08 to 0.9 for r < order - 1. Removing only the last state attains the
    bound at omega = 0 (ratio 1 - 4e-8 here, analog), so rounding gets a relative
    slack of 1e-6."""
    sys = balanced_systems()[name]
    hsv = sys.hankel_singular_values()
    top = 1e4 if sys.analog else np.pi / sys.dt
    omega = np.geomspace(1e-3, top, 3000)
    H = sys.frequency_response(omega).reshape(omega.size, sys.size_out, sys.size_in)
    for r in (1, sys.order // 2, sys.order - 1):
        reduced = sys.balanced_truncation(r)
        assert reduced.order == r and reduced.dt == sys.dt
        H_r = reduced.frequency_response(omega).reshape(H.shape)
        error = np.max(np.linalg.norm(H - H_r, ord=2, axis=(1, 2)))
        bound = 2 * np.sum(hsv[r:])
        assert error <= bound * (1 + 1e-6), (r, error, bound)
    assert sys.balanced_truncation(sys.order).transfer_equal(sys)


def test_balancing_a_non_minimal_system():
    """A pole-zero cancellation (s + 2) / ((s + 1)(s + 2)) has a zero Hankel
    singular value: it cannot be balanced, but truncating that state gives the
    minimal 1 / (s + 1). The zero value comes out at about sqrt(eps) times the
    largest (the singular Gramian's factor is taken from its eigenvalues, whose
    rounding, ~1e-17, the square root lifts): 4.3e-9 measured with one OpenBLAS,
    below 1e-12 with another, so 1e-7 is the honest bound."""
    sys = LinearSystem(([1.0, 2.0], [1.0, 3.0, 2.0]))
    hsv = sys.hankel_singular_values()
    assert abs(hsv[0] - 0.5) < 1e-12 and hsv[1] < 1e-7
    with pytest.raises(ValidationError, match="order: Must keep only states"):
        sys.balanced()
    assert sys.balanced_truncation(1).transfer_equal(LinearSystem(([1.0], [1.0, 1.0])))


def test_is_stable():
    assert LinearSystem(([1.0], [1.0, 1.0])).is_stable
    assert not LinearSystem(([1.0], [1.0, -1.0])).is_stable
    assert not LinearSystem(([1.0], [1.0, 0.0, 1.0])).is_stable  # undamped
    assert LinearSystem(([1.0], [1.0, -0.9]), dt=0.1).is_stable
    assert not LinearSystem(([1.0], [1.0, -1.0]), dt=0.1).is_stable
    assert LegendreDelay(1.0, 30).is_stable


# -- realizations and comparison ------------------------------------------------


def test_transform(rng):
    """x' = T x: A' T = T A, B' = T B, C' T = C (measured <= 3e-16; tolerance
    1e-12, a solve with cond(T) ~ 10), and the same transfer function."""
    sys = random_system(rng, 4, 2, 2)
    T = rng.standard_normal((4, 4)) + 3 * np.eye(4)
    other = sys.transform(T)
    assert relative_error(other.A @ T, T @ sys.A) < 1e-12
    assert relative_error(other.B, T @ sys.B) < 1e-14
    assert relative_error(other.C @ T, sys.C) < 1e-12
    assert not np.allclose(other.A, sys.A)
    assert other.transfer_equal(sys) and sys.transfer_equal(other)
    with pytest.raises(ValidationError, match="T: Must be invertible"):
        sys.transform(np.ones((4, 4)))
    with pytest.raises(ValidationError, match=r"T: Must have shape .*\(4, 4\)"):
        sys.transform(np.eye(3))


def test_transfer_equal_distinguishes_systems(rng):
    lowpass = LinearSystem(([1.0], [0.1, 1.0]))
    assert lowpass.transfer_equal(nengo.Lowpass(0.1))
    assert not lowpass.transfer_equal(nengo.Lowpass(0.1 * (1 + 1e-6)))
    assert not lowpass.transfer_equal(LinearSystem(([1.0], [0.1, 1.0, 0.0])))

    sys = random_system(rng, 5, 1, 1)
    T = rng.standard_normal((5, 5)) + 3 * np.eye(5)
    assert sys.transfer_equal(sys.transform(T))
    # the same transfer function with one extra, cancelled pole
    num, den = sys.tf
    bigger = LinearSystem((np.polymul(num, [1, 7]), np.polymul(den, [1, 7])))
    assert bigger.order == 6 and sys.transfer_equal(bigger)

    # analog vs digital, different dt, different sizes
    assert not sys.transfer_equal(sys.discretize(0.01))
    digital = sys.discretize(0.01)
    assert digital.transfer_equal(sys.transform(T).discretize(0.01))
    assert not digital.transfer_equal(sys.discretize(0.02))
    assert not digital.transfer_equal(LinearSystem(digital.ss, dt=0.011))
    assert not sys.transfer_equal(random_system(rng, 5, 1, 2))

    # different delays and approximants
    assert not PadeDelay(1.0, 6).transfer_equal(PadeDelay(1.0, 7))
    assert not PadeDelay(1.0, 6).transfer_equal(PadeDelay(1.0, 6, p=6))
    assert not LegendreDelay(1.0, 6).transfer_equal(LegendreDelay(1.0 + 1e-6, 6))


# -- delays ---------------------------------------------------------------------


@pytest.mark.parametrize("order", [1, 2, 3, 6, 10, 15])
@pytest.mark.parametrize("theta", [0.1, 1.0, 7.5])
def test_legendre_delay_is_pade_delay(order, theta):
    """The LMU's transfer function is the [order-1/order] Pade approximant of
    exp(-theta s) (Voelker et al. 2019, eq. 2). transfer_equal at rtol 1e-8:
    pointwise differences measured <= 2e-13 relative (order 15)."""
    legendre = LegendreDelay(theta, order)
    A, B = lmu_matrices(order, theta)
    assert np.array_equal(legendre.A, A) and np.array_equal(legendre.B, B)
    assert np.array_equal(legendre.C, np.ones((1, order)))
    assert np.array_equal(legendre.D, [[0.0]])
    assert legendre.transfer_equal(PadeDelay(theta, order))


# scipy.interpolate.pade warns of its own ill-conditioned solve for q = 9
@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
@pytest.mark.parametrize("q", [1, 2, 5, 9])
def test_pade_delay_coefficients_match_scipy_pade(q):
    """For every numerator degree 0 <= p <= q: the transfer function's
    coefficients against scipy.interpolate.pade of the Taylor series of exp(-x),
    with x = theta s. Measured <= 2e-8 relative (q = 9, p = 8), which is
    scipy's: its linear solve is ill-conditioned there, while ours are exact
    fractions rounded once (den[1] = q (p + 1) / theta = 81 / 0.7 exactly for
    p = 8, q = 9: ours to 1e-16, scipy's 1e-8 off); tolerance 1e-7. The next
    test checks the definition itself, tightly."""
    theta = 0.7
    taylor = [(-1.0) ** k / math.factorial(k) for k in range(2 * q + 1)]
    for p in range(q + 1):
        num_x, den_x = scipy.interpolate.pade(taylor, q, p)
        # poly1d coefficients are descending in x = theta s
        num_ref = num_x.coeffs * theta ** np.arange(p, -1, -1)
        den_ref = den_x.coeffs * theta ** np.arange(q, -1, -1)
        num_ref, den_ref = padded_tf(num_ref, den_ref)
        num, den = PadeDelay(theta, q, p=p).tf
        assert relative_error(den, den_ref) < 1e-7, p
        assert relative_error(num, num_ref) < 1e-7, p


@pytest.mark.parametrize("q", [1, 4, 9, 14])
def test_pade_delay_matches_taylor_series(q):
    """The definition of the [p/q] approximant: num(x) - den(x) exp(-x) =
    O(x^(p+q+1)), i.e. the first p + q + 1 Taylor coefficients of den(x) exp(-x)
    are num's (then 0 up to x^(p+q)). With x = theta s, theta = 1, from the
    realization's tf (eigenvalue-based, so rounding grows with q): measured
    <= 2.2e-14 relative; tolerance 1e-10."""
    for p in range(q + 1):
        num, den = PadeDelay(1.0, q, p=p).tf
        num_ascending, den_ascending = num[::-1], den[::-1]
        exp_series = [(-1.0) ** k / math.factorial(k) for k in range(p + q + 1)]
        product = np.convolve(den_ascending, exp_series)[: p + q + 1]
        expected = np.zeros(p + q + 1)
        expected[: p + 1] = num_ascending[: p + 1]
        assert np.all(np.abs(num_ascending[p + 1 :]) < 1e-10 * np.max(np.abs(num)))
        assert relative_error(product, expected) < 1e-10, p


def test_pade_delay_closed_forms():
    """[0/1] is 1 / (theta s + 1); [1/1] is (2 - theta s) / (2 + theta s), an
    all-pass filter; the [q/q] approximants all have |H(j omega)| = 1 (measured
    within 5e-15 of 1; tolerance 1e-10)."""
    theta = 0.4
    assert PadeDelay(theta, 1, p=0).transfer_equal(LinearSystem(([1], [theta, 1])))
    assert PadeDelay(theta, 1, p=1).transfer_equal(
        LinearSystem(([-theta, 2.0], [theta, 2.0]))
    )
    omega = np.geomspace(1e-2, 1e3, 50)
    for q in (1, 4, 8):
        H = PadeDelay(theta, q, p=q).frequency_response(omega)
        assert np.allclose(np.abs(H), 1.0, rtol=0, atol=1e-10)


# -- simulation in Nengo --------------------------------------------------------


def simulate_node(system, dt, n_steps, size_in, seed=3):
    with nengo.Network() as net:
        u = nengo.Node(
            nengo.processes.WhiteSignal(1.0, high=20.0, rms=0.5, seed=seed),
            size_out=size_in,
        )
        node = nengo.Node(system.process())
        nengo.Connection(u, node, synapse=None)
        pu = nengo.Probe(u, synapse=None)
        py = nengo.Probe(node, synapse=None)
    assert (node.size_in, node.size_out) == (system.size_in, system.size_out)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(n_steps)
    return sim.data[pu], sim.data[py]


def test_process_in_node_matches_filter_and_dlsim(rng):
    """A digital MIMO system (with feedthrough) in a Node against filter and
    scipy.signal.dlsim on the probed input; an analog one (LegendreDelay)
    against its ZOH discretization at the simulator's dt. 400 steps: measured
    <= 1e-15, tolerance 1e-10."""
    dt = 0.001
    digital = random_system(rng, 4, 2, 3, dt=dt)
    u, y = simulate_node(digital, dt, 400, size_in=2)
    assert relative_error(y, digital.filter(u)) < 1e-10
    _, y_ref, _ = scipy.signal.dlsim((*digital.ss, dt), u)
    assert relative_error(y, y_ref) < 1e-10

    analog = LegendreDelay(0.05, 6)
    u, y = simulate_node(analog, dt, 400, size_in=1)
    assert relative_error(y, analog.filter(u, dt=dt)) < 1e-10
    _, y_ref, _ = scipy.signal.dlsim((*analog.discretize(dt).ss, dt), u)
    assert relative_error(y[:, 0], y_ref[:, 0]) < 1e-10


def test_process_sizes_and_dt():
    sys = LinearSystem(([1.0], [1.0, -0.5]), dt=0.002)
    process = sys.process()
    assert isinstance(process, LinearSystemProcess)
    assert (process.default_size_in, process.default_size_out) == (1, 1)
    assert process.default_dt == 0.002
    assert np.allclose(process.apply(np.ones((5, 1)))[:, 0], sys.filter(np.ones(5)))

    with nengo.Network() as net:
        nengo.Node(process)
    with pytest.raises(ValidationError, match=r"dt: Must equal the digital .*0\.002"):
        nengo.Simulator(net, dt=0.001, progress_bar=False)

    with nengo.Network() as net:
        nengo.Node(LinearSystemProcess(LegendreDelay(1.0, 3)), size_in=2)
    with pytest.raises(ValidationError, match="size_in: Must be the system's size_in"):
        nengo.Simulator(net, progress_bar=False)


def test_process_rejects_nonfinite_input():
    u = np.zeros((10, 1))
    u[4] = np.nan
    process = LegendreDelay(0.1, 3).process()
    with pytest.raises(ValidationError, match=r"input: Input at t=0\.005 is not fin"):
        process.apply(u, dt=0.001)
    restored = pickle.loads(pickle.dumps(process))
    assert restored.system.transfer_equal(process.system)


# -- validation -----------------------------------------------------------------

A2 = np.array([[-1.0, 0.0], [0.0, -2.0]])
B2 = np.ones((2, 1))
C2 = np.ones((1, 2))
D2 = np.zeros((1, 1))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: LinearSystem((A2, B2, C2)), r"(?s)sys: Must be a 4-tuple.*from_zpk"),
        (lambda: LinearSystem("lowpass"), "sys: Must be a 4-tuple"),
        (lambda: LinearSystem(np.ones((2, 3))), "sys: Must be a 4-tuple"),
        (lambda: LinearSystem((np.ones((2, 3)), B2, C2, D2)), r"A: Must be a square"),
        (lambda: LinearSystem((A2, np.ones((3, 1)), C2, D2)), r"B: .*got shape \(3, 1"),
        (lambda: LinearSystem((A2, B2, np.ones((1, 3)), D2)), r"C: .*got shape \(1, 3"),
        (lambda: LinearSystem((A2, B2, C2, np.ones((2, 1)))), r"D: .*\(1, 1\)"),
        (lambda: LinearSystem((A2 * np.nan, B2, C2, D2)), "A: Must contain only fin"),
        (lambda: LinearSystem((A2 * 1j, B2, C2, D2)), "A: Must be real"),
        (lambda: LinearSystem((A2, B2, C2, [["x"]])), "D: Must be a real numeric"),
        (lambda: LinearSystem(([1, 2, 3], [1, 1])), "num: Must have degree <= "),
        (lambda: LinearSystem(([1], [0, 0])), "den: Must have a nonzero coef"),
        (lambda: LinearSystem(([[1]], [1, 1])), "num: Must be a 1-D array"),
        (lambda: LinearSystem(([1], [1, 1]), dt=-0.1), "dt: Must be a finite number"),
        (lambda: LinearSystem(([1], [1, 1]), dt=np.inf), "dt: Must be a finite"),
        (lambda: LinearSystem.from_zpk([1j], [-1, -2], 1.0), "z: .*conjugate pairs"),
        (lambda: LinearSystem.from_zpk([], [-1], 1j), "k: Must be a real number"),
        (lambda: LinearSystem.from_zpk([], [-1], "2"), "k: Must be a real number"),
        (lambda: LinearSystem(LegendreDelay(1, 2), dt=0.1), "dt: Must be None or"),
        (lambda: PadeDelay(0.0, 3), r"theta: Must be a finite number > 0; got 0\.0"),
        (lambda: PadeDelay(np.nan, 3), "theta: Must be a finite number > 0"),
        (lambda: LegendreDelay(-1.0, 3), "theta: Must be a finite number > 0"),
        (lambda: LegendreDelay(1.0, 0), "order: Must be an integer >= 1; got 0"),
        (lambda: PadeDelay(1.0, 2.5), "order: Must be an integer >= 1; got 2.5"),
        (lambda: PadeDelay(1.0, 3, p=4), r"p: Must be an integer with 0 <= p <= or"),
        (lambda: PadeDelay(1.0, 3, p=-1), "p: Must be an integer with 0 <= p"),
    ],
)
def test_constructors_reject_bad_arguments(make, match):
    with pytest.raises(ValidationError, match=match):
        make()


def test_methods_reject_bad_arguments():
    analog = LegendreDelay(1.0, 3)
    digital = analog.discretize(0.01)
    mimo = LinearSystem((A2, np.ones((2, 2)), np.ones((2, 2)), np.zeros((2, 2))))
    with pytest.raises(ValidationError, match="dt: Can only discretize an analog"):
        digital.discretize(0.01)
    with pytest.raises(ValidationError, match="method: Unknown value 'foh'"):
        analog.discretize(0.01, method="foh")
    with pytest.raises(ValidationError, match="dt: Must be given for an analog"):
        analog.impulse(10)
    with pytest.raises(ValidationError, match="dt: Must be given for an analog"):
        analog.filter(np.zeros(10))
    with pytest.raises(ValidationError, match=r"dt: Must be None or this .*0\.01"):
        digital.filter(np.zeros(10), dt=0.02)
    with pytest.raises(ValidationError, match="n_steps: Must be an integer >= 1"):
        digital.impulse(0)
    with pytest.raises(
        ValidationError,
        match=r"u: Must have shape \(n_steps, size_in\) = \(n_steps, 2\)",
    ):
        mimo.filter(np.zeros(10), dt=0.1)
    with pytest.raises(ValidationError, match="u: Must contain only finite"):
        analog.filter([0.0, np.inf], dt=0.1)
    with pytest.raises(ValidationError, match="omega: Must be a scalar or 1-D"):
        analog.frequency_response(np.ones((2, 2)))
    with pytest.raises(ValidationError, match="tf: Only defined for single-input"):
        _ = mimo.tf
    with pytest.raises(ValidationError, match="zpk: Only defined for single-input"):
        _ = mimo.zpk
    with pytest.raises(ValidationError, match="order: Must be at most the system's"):
        analog.balanced_truncation(4)
    with pytest.raises(ValidationError, match="rtol: Must be a finite number > 0"):
        analog.transfer_equal(analog, rtol=0)
    with pytest.raises(ValidationError, match="sys: Must be a 4-tuple"):
        analog.transfer_equal("delay")
    with pytest.raises(ValidationError, match="system: Must be a 4-tuple"):
        LinearSystemProcess("delay")
