"""How large a linear system's states get: the radii a realization is scaled by.

Neurons represent each state well within a range, their radius; a state scaled
by the radius it reaches for the expected input uses the neurons' whole range
without saturating them. Three ways to get the radii, none of which simulates
neurons:

- `spectral_radii`: from the input process's power spectrum, analytically
  (`nengo.processes.WhiteSignal`, the default input everywhere here):
  ``PEAK_FACTOR`` standard deviations of each state;
- `measure_radii`: the largest value each state reaches on independent draws of
  any `nengo.Process`, run through the exact system;
- `norm_radii`: from norms of the states' impulse responses (the worst case for
  bounded inputs, or the RMS under white noise), independent of the input.

`process_radii` picks the first that applies to a process.
"""

import nengo
import numpy as np
import scipy.linalg
import scipy.signal
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.systems.linear import LinearSystem
from nengo_lmu.systems.processes import run_process

NORMS = ("l1", "h2", "hankel")

# The radius `spectral_radii` gives a state, in standard deviations: a Gaussian
# state stays within it 99.7 % of the time. Measured beside `measure_radii` on
# the default inputs (5 draws of one period each), whose largest values came to
# 2.7-4.1 standard deviations for Legendre, balanced and Pade realizations of
# orders 3 to 12 (`tests/test_radii.py`).
PEAK_FACTOR = 3.0

# Independent draws of the input process `measure_radii` takes by default (one
# draw of a 20-theta signal underestimated the LMU's radii by up to 30 %, which
# saturated the neurons).
MEASURE_TRIALS = 5


def _as_system(system):
    """``system`` itself if it is a `LinearSystem`, else the one it describes
    (anything `LinearSystem` accepts): the one conversion, at the public entry."""
    return system if isinstance(system, LinearSystem) else LinearSystem(system)


def state_system(system):
    """The system whose outputs are its states (``C = I``, ``D = 0``)."""
    return _state_system(_as_system(system))


def _state_system(system):
    return LinearSystem.from_ss(
        system.A,
        system.B,
        np.eye(system.order),
        np.zeros((system.order, system.size_in)),
        dt=system.dt,
    )


def spectral_radii(system, process, dt=0.001, peak_factor=PEAK_FACTOR):
    """Radii of the states from the input's power spectrum, without simulating.

    For a `nengo.processes.WhiteSignal` (a periodic sum of sinusoids at the
    frequencies ``k / period`` up to ``high``, each with an independent Gaussian
    amplitude of equal variance, ``rms`` overall) the variance of state ``i`` in
    steady state is, exactly,

    .. math::

        \\sigma_i^2 = \\frac{rms^2}{K} \\sum_{k=1}^{K} |H_i(f_k)|^2

    with ``H_i(f)`` the frequency response from the input to state ``i`` (at
    ``s = j 2 pi f``, or ``z = exp(j 2 pi f dt)`` for a digital system) and ``K``
    the number of frequencies. The radius is ``peak_factor`` standard
    deviations.

    Parameters
    ----------
    system : LinearSystem
        Stable (an unstable state has no steady state); anything `LinearSystem`
        accepts is converted once, here.
    process : nengo.processes.WhiteSignal
        The input, the same on every input dimension.
    dt : float
        Time step the process is sampled at (sets its frequencies, as in
        `nengo.processes.WhiteSignal.make_step`).
    peak_factor : float

    Returns
    -------
    radii : (order,) ndarray
    """
    system = _as_system(system)
    if not isinstance(process, nengo.processes.WhiteSignal):
        raise ValidationError(
            f"Must be a nengo.processes.WhiteSignal (the process whose spectrum "
            f"is known here); got {process!r}: use measure_radii",
            attr="process",
        )
    check_positive(dt, "dt")
    check_positive(peak_factor, "peak_factor")
    _check_stable(system, "spectral")
    n_coefficients = int(np.ceil(process.period / dt / 2.0))
    freqs = np.fft.rfftfreq(2 * n_coefficients, d=dt)[1:]
    freqs = freqs[freqs <= process.high]
    if len(freqs) == 0:
        raise ValidationError(
            f"{process!r} has no frequency between 1 / period and high",
            attr="process",
        )
    H = _state_system(system).frequency_response(2 * np.pi * freqs)
    H = np.asarray(H).reshape(len(freqs), system.order, system.size_in)
    # each input dimension is an independent draw of the process
    variance = process.rms**2 * np.mean(np.sum(np.abs(H) ** 2, axis=2), axis=0)
    return _positive(peak_factor * np.sqrt(variance))


def measure_radii(
    system,
    process,
    dt=0.001,
    trials=MEASURE_TRIALS,
    duration=None,
    seed=0,
    ball=False,
):
    """The largest absolute value each state of ``system`` reaches for ``process``.

    The exact system is run on ``trials`` independent draws of the process (seeds
    ``seed``, ``seed + 1``, ...), from rest; the whole run counts, start included.
    A stable system is run by FFT convolution with its impulse response,
    truncated where it has decayed by ``1e-13``; any other by `LinearSystem.filter`.

    Parameters
    ----------
    system : LinearSystem
        Analog, or digital at ``dt``; anything `LinearSystem` accepts is
        converted once, here.
    process : nengo.Process
        The input, drawn independently on each input dimension.
    dt : float
    trials : int
    duration : float, optional
        Seconds per draw (default: the process's ``period`` if it has one, else
        10 s).
    seed : int
    ball : bool
        Scale the radii up together so that the scaled state vector stays inside
        the unit ball (its largest Euclidean norm over the draws is 1), not only
        each state inside [-1, 1]: what one multi-dimensional ensemble represents
        well.

    Returns
    -------
    radii : (order,) ndarray
        Positive: a state that never moves gets ``1e-6`` of the largest radius
        (or 1 if none moves).
    """
    system = _as_system(system)
    check_positive(dt, "dt")
    trials = check_order(trials, attr="trials")
    if duration is None:
        duration = getattr(process, "period", None) or 10.0
    n_steps = max(1, int(np.ceil(check_positive(duration, "duration") / dt)))
    states = _state_system(system)
    kernel = None
    if system.is_stable:
        discrete = states.discretize(dt) if states.analog else states
        decay = np.max(np.abs(discrete.poles)) if discrete.order else 0.0
        length = n_steps
        if 0 < decay < 1:
            length = min(n_steps, int(np.ceil(np.log(1e-13) / np.log(decay))) + 1)
        # (length, order, size_in): the response of each state to each input
        kernel = discrete.impulse(length).reshape(length, system.order, -1)
    runs = []
    for trial in range(trials):
        u = run_process(
            process, n_steps, dt, np.random.RandomState(seed + trial), d=system.size_in
        )
        if kernel is None:
            x = states.filter(u, dt=dt if states.analog else None)
        else:
            x = sum(
                scipy.signal.fftconvolve(u[:, j : j + 1], kernel[:, :, j], axes=0)[
                    :n_steps
                ]
                for j in range(system.size_in)
            )
        runs.append(np.asarray(x).reshape(n_steps, system.order))
    radii = _positive(np.max([np.max(np.abs(x), axis=0) for x in runs], axis=0))
    if ball:
        radii = radii * max(np.max(np.linalg.norm(x / radii, axis=1)) for x in runs)
    return radii


def _positive(radii):
    radii = np.asarray(radii, dtype=float)
    top = np.max(radii) if radii.size else 0.0
    if not top > 0:
        return np.ones_like(radii)
    return np.maximum(radii, 1e-6 * top)


def _check_stable(system, what):
    if not system.is_stable:
        raise ValidationError(
            f"the {what} radii of an unstable system's states are infinite (poles "
            f"{np.round(system.poles, 6)}); give radii or measure them "
            f"(measure_radii)",
            attr="radii",
        )


def norm_radii(system, norm="l1", input_bound=1.0, rtol=1e-9):
    """Radii of the states from norms of their impulse responses (no simulation).

    ``"l1"``: the largest ``|x_i|`` any input with ``|u_j| <= input_bound`` can
    drive state ``i`` to, ``input_bound * sum_j integral |h_ij(t)| dt``; a
    guarantee, so the neurons never saturate, at the cost of resolution for
    typical inputs. ``"h2"``: the state's RMS under unit-intensity white noise on
    every input, ``sqrt(W_c[i, i])`` (the controllability Gramian's diagonal),
    times ``input_bound``: typical, not worst-case, values. ``"hankel"``: twice the
    sum of the Hankel singular values of the map from each input to the state,
    summed over inputs (times ``input_bound``): an upper bound on ``"l1"``
    (Khaisongkram and Banjerdpongchai 2007; nengolib's ``Hankel`` realizer),
    computed from the Gramians alone, looser than ``"l1"``.

    Parameters
    ----------
    system : LinearSystem
        Stable (the norms are infinite otherwise); anything `LinearSystem`
        accepts is converted once, here.
    norm : {"l1", "h2", "hankel"}
    input_bound : float
        The input's bound (``"l1"``, ``"hankel"``) or scale (``"h2"``).
    rtol : float
        ``"l1"``: the impulse response is integrated until it has decayed below
        ``rtol`` of its peak, and a bound on the rest is added.

    Notes
    -----
    ``"l1"`` is an upper bound, not an estimate: between samples (at 1/100 of
    the fastest pole's time constant) each state's impulse response is
    integrated exactly (``A^-1 (e^{A b} - e^{A a}) B``), split at its sign
    changes, which are located by linear interpolation and integrated exactly on
    each side; the sum is raised by a relative ``1e-9`` for rounding and the
    sampling of the sign changes, and the tail after the last sample is bounded
    by the last tenth's largest value over the slowest decay rate. Tested
    against `scipy.integrate.quad` of ``|h|`` to 1e-6 (it is never below).

    Returns
    -------
    radii : (order,) ndarray
    """
    system = _as_system(system)
    check_choice(norm, NORMS, "norm")
    _check_stable(system, norm)
    states = _state_system(system)
    if norm == "h2":
        radii = np.sqrt(np.diag(states.controllability_gramian()))
    elif norm == "hankel":
        order, size_in = system.order, system.size_in
        radii = np.array(
            [
                sum(
                    2.0
                    * np.sum(
                        LinearSystem.from_ss(
                            system.A,
                            system.B[:, j : j + 1],
                            np.eye(order)[i : i + 1],
                            np.zeros((1, 1)),
                            dt=system.dt,
                        ).hankel_singular_values()
                    )
                    for j in range(size_in)
                )
                for i in range(order)
            ]
        )
    elif system.analog:
        radii = _l1_analog(system.A, system.B, system.poles, rtol)
    else:
        radius = np.max(np.abs(system.poles))
        n_steps = int(np.ceil(np.log(rtol) / np.log(radius))) + 1
        h = np.abs(states.impulse(n_steps)).reshape(n_steps, system.order, -1)
        # the rest of the sum: the last tenth's largest term, decaying by radius
        tail = h[-max(n_steps // 10, 1) :].max(axis=0) / (1 - radius)
        radii = (h.sum(axis=0) + tail).sum(axis=1)
    return input_bound * radii


def _l1_analog(A, B, poles, rtol):
    """``sum_j integral_0^inf |(e^{A t} B)_ij| dt`` for each state ``i``, an upper
    bound to a relative 1e-9 (see `norm_radii`)."""
    rates = np.abs(poles.real)
    dt = 0.01 / np.max(np.abs(poles))
    n_steps = int(np.ceil(-np.log(rtol) / np.min(rates) / dt)) + 1
    step = scipy.linalg.expm(A * dt)
    X = np.empty((n_steps,) + B.shape)  # samples of e^{A t} B
    X[0] = B
    for k in range(1, n_steps):
        X[k] = step @ X[k - 1]
    A_inv = np.linalg.inv(A)
    F = np.einsum("ij,kjl->kil", A_inv, X)  # antiderivative A^-1 e^{A t} B
    pieces = np.abs(np.diff(F, axis=0))  # exact where h keeps its sign
    for k, i, j in zip(*np.nonzero(np.sign(X[:-1]) * np.sign(X[1:]) < 0)):
        # a sign change in (t_k, t_k+1): split it there, integrate each side
        frac = X[k, i, j] / (X[k, i, j] - X[k + 1, i, j])
        F_mid = A_inv @ scipy.linalg.expm(A * frac * dt) @ X[k, :, j]
        pieces[k, i, j] = abs(F_mid[i] - F[k, i, j]) + abs(F[k + 1, i, j] - F_mid[i])
    last = np.abs(X[-max(n_steps // 10, 1) :]).max(axis=0)
    tail = last / np.min(rates)
    return (pieces.sum(axis=0) * (1 + 1e-9) + tail).sum(axis=1)


def process_radii(system, process, dt=0.001, **kwargs):
    """The radii of ``system``'s states for ``process``, simulating nothing where
    the process's spectrum is known: `spectral_radii` for a stable system driven
    by a `nengo.processes.WhiteSignal`, `measure_radii` (with ``kwargs``)
    otherwise.

    Returns
    -------
    radii : (order,) ndarray
    how : {"spectral", "measured"}
    """
    system = _as_system(system)
    if isinstance(process, nengo.processes.WhiteSignal) and system.is_stable:
        return spectral_radii(system, process, dt=dt), "spectral"
    return measure_radii(system, process, dt=dt, **kwargs), "measured"
