"""The LMU memory as a linear system: matrices, discretization, readouts, realizations.

This module is the single source of truth for the mathematics; every other layer
(mapping, networks, analysis, backends) takes A, B and readouts from here.

Conventions
-----------
The memory state ``m(t)`` (length ``order``) obeys ``dm/dt = A m + B u`` with ``A``
and ``B`` already divided by ``theta``. The delayed input is read out as
``u(t - r * theta) ~= legendre_readout(order, r) @ m(t)`` for ``0 <= r <= 1``.

References
----------
.. [1] Voelker, Kajic, Eliasmith. "Legendre Memory Units: Continuous-time
   representation in recurrent neural networks." NeurIPS 2019.
.. [2] Voelker. "Dynamical systems in spiking neuromorphic hardware." PhD thesis,
   University of Waterloo, 2019.
"""

import warnings

import nengo
import numpy as np
import scipy.linalg
import scipy.signal
import scipy.special
from nengo.exceptions import ValidationError
from nengo.params import EnumParam

from nengo_lmu._validation import (
    FiniteNumberParam,
    StrictIntParam,
    check_choice,
    check_order,
    check_positive,
)
from nengo_lmu.systems.linear import LinearSystem
from nengo_lmu.systems.radii import measure_radii, state_system

DISCRETIZE_METHODS = ("zoh", "euler")
REALIZATIONS = ("legendre", "balanced", "scaled", "pade")


def lmu_matrices(order, theta):
    """The continuous LMU system ``(A, B)``, already divided by ``theta``.

    Parameters
    ----------
    order : int
        Dimensionality ``d`` of the memory (number of Legendre polynomials), >= 1.
    theta : float
        Length of the sliding window, in seconds (> 0).

    Returns
    -------
    A : (order, order) ndarray
    B : (order, 1) ndarray

    Notes
    -----
    ``theta A[i, j] = (2i + 1) * (-1 if i < j else (-1)**(i - j + 1))`` and
    ``theta B[i] = (2i + 1) * (-1)**i`` (Voelker et al. 2019).

    Examples
    --------
    >>> A, B = lmu_matrices(2, theta=1.0)
    >>> A
    array([[-1., -1.],
           [ 3., -3.]])
    >>> B.ravel()
    array([ 1., -3.])
    """
    order = check_order(order)
    theta = check_positive(theta, "theta")
    i = np.arange(order)[:, None]
    j = np.arange(order)[None, :]
    scale = 2 * i + 1
    A = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * scale
    B = (2 * np.arange(order) + 1.0) * (-1.0) ** np.arange(order)
    return A / theta, B[:, None] / theta


def discretize(A, B, dt, method="zoh"):
    """Discretize the continuous system ``dx/dt = A x + B u`` at time step ``dt``.

    Parameters
    ----------
    A : (n, n) array_like
    B : (n, k) array_like
    dt : float
        Time step in seconds (> 0).
    method : {"zoh", "euler"}
        ``"zoh"``: exact for an input held constant over each step (stable for any
        ``dt`` when ``A`` is). ``"euler"``: ``Ad = I + dt A``, ``Bd = dt B``.

    Returns
    -------
    Ad, Bd : ndarray
        ``x[k] = Ad x[k-1] + Bd u[k]``.

    Examples
    --------
    >>> A, B = lmu_matrices(1, theta=1.0)
    >>> Ad, Bd = discretize(A, B, dt=0.5, method="euler")
    >>> float(Ad[0, 0]), float(Bd[0, 0])
    (0.5, 0.5)
    """
    dt = check_positive(dt, "dt")
    check_choice(method, DISCRETIZE_METHODS, "method")
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    n, k = B.shape
    if method == "euler":
        return np.eye(n) + dt * A, dt * B
    # ZOH via the exponential of the augmented matrix [[A, B], [0, 0]] (Van Loan).
    M = np.zeros((n + k, n + k))
    M[:n, :n] = A * dt
    M[:n, n:] = B * dt
    E = scipy.linalg.expm(M)
    return E[:n, :n], E[:n, n:]


def impulse_response(Ad, Bd, n_steps):
    """``H[k] = Ad^k Bd`` for ``k = 0 .. n_steps - 1``, shape (n_steps, order): the
    discrete memory is ``m[t] = sum_k H[k] u[t - k]``.

    Examples
    --------
    >>> Ad, Bd = discretize(*lmu_matrices(2, 1.0), dt=0.1)
    >>> H = impulse_response(Ad, Bd, 3)
    >>> np.allclose(H[2], Ad @ Ad @ Bd[:, 0])
    True
    """
    Ad = np.asarray(Ad, dtype=float)
    H = np.empty((n_steps, Ad.shape[0]))
    h = np.asarray(Bd, dtype=float)[:, 0]
    for k in range(n_steps):
        H[k] = h
        h = Ad @ h
    return H


def _check_r(r, attr="r"):
    r_arr = np.atleast_1d(np.asarray(r, dtype=float))
    if r_arr.ndim != 1:
        raise ValidationError(
            f"Must be a scalar or 1-D array; got shape {r_arr.shape}", attr=attr
        )
    bad = ~np.isfinite(r_arr) | (r_arr < 0) | (r_arr > 1)
    if np.any(bad):
        raise ValidationError(
            f"Delays must be fractions of theta in [0, 1]; got {r_arr[bad][0]!r}",
            attr=attr,
        )
    return r_arr


def legendre_readout(order, r):
    """Readout rows that decode ``u(t - r * theta)`` from the Legendre memory.

    Parameters
    ----------
    order : int
        Memory order ``d`` (>= 1).
    r : float or array_like
        Delay(s) as a fraction of ``theta``, each in ``[0, 1]`` (0 = now, 1 = the
        oldest point of the window).

    Returns
    -------
    C : (len(r), order) ndarray
        ``C[k, i] = P_i(2 r_k - 1)``, the Legendre polynomial ``P_i``.

    Examples
    --------
    >>> legendre_readout(3, [0.0, 1.0])
    array([[ 1., -1.,  1.],
           [ 1.,  1.,  1.]])
    """
    order = check_order(order)
    r = _check_r(r)
    i = np.arange(order)
    return scipy.special.eval_legendre(i[None, :], 2 * r[:, None] - 1)


def controllability_gramian(A, B):
    """Solve ``A W + W A^T + B B^T = 0`` (the state covariance under white noise)."""
    return scipy.linalg.solve_continuous_lyapunov(A, -B @ B.T)


def window_readout(
    order, function, n_points=200, n_samples=2000, rng=None, process=None, dt=0.001
):
    """Least-squares readout of any function of the window onto the memory.

    Parameters
    ----------
    order : int
        Memory order (>= 1).
    function : callable
        Called on one window, an array of ``n_points`` samples of ``u`` at times
        ``t - theta ... t`` (ascending), spaced ``theta / (n_points - 1)`` apart;
        returns a scalar or a 1-D array (e.g. ``np.mean``, ``np.max``, or a finite
        difference for the derivative).
    n_points : int
        Samples per window passed to ``function``.
    n_samples : int
        Number of random windows in the least-squares fit. Linear functions are
        decoded exactly whatever the windows; nonlinear ones (max, ...) in the
        least-squares sense over the windows drawn, so give ``process`` when the
        input's statistics are known.
    rng : np.random.RandomState, optional
    process : nengo.Process, optional
        The expected input (1-D): windows are the memory's states while it is
        driven by this process (window length ``theta = 1``: express the process
        in units of theta). Default: the memory's state distribution under white
        noise (its controllability Gramian).
    dt : float
        Time step used to simulate ``process``.

    Returns
    -------
    W : (n_out, order) ndarray
        ``function(window) ~= W @ m``.

    Examples
    --------
    >>> W = window_readout(4, np.mean, n_points=2001)  # the mean of the window is m_0
    >>> np.allclose(W, [[1, 0, 0, 0]], atol=1e-3)
    True
    """
    order = check_order(order)
    if not callable(function):
        raise ValidationError(f"Must be callable; got {function!r}", attr="function")
    rng = np.random.RandomState(0) if rng is None else rng
    if process is None:
        A, B = lmu_matrices(order, 1.0)
        cov = controllability_gramian(A, B)
        L = np.linalg.cholesky(cov + 1e-12 * np.eye(order))
        M = rng.standard_normal((n_samples, order)) @ L.T
    else:
        n_steps = int(round(1.0 / dt)) * 2 + n_samples * 10
        u = process.run_steps(n_steps, dt=dt, rng=rng)[:, :1]
        M = simulate_memory(u, order, 1.0, dt=dt)[:, 0, :]
        M = M[n_steps - n_samples * 10 :: 10]
    r = np.linspace(1, 0, n_points)  # ascending time = descending delay
    C = legendre_readout(order, r)
    windows = M @ C.T
    if process is None:
        # Unit-RMS windows: the fit of a nonlinear function depends on the scale,
        # and unit RMS matches Nengo's usual radius.
        scale = np.sqrt(np.mean(windows**2))
        M /= scale
        windows /= scale
    Y = np.array([np.atleast_1d(function(w)) for w in windows], dtype=float)
    W, *_ = np.linalg.lstsq(M, Y, rcond=None)
    return W.T


def pade_delay_matrices(order, theta):
    """The ``[order-1/order]`` Pade approximant of ``exp(-theta s)`` in state space.

    The LMU is a realization of this same transfer function (Voelker et al.
    2019); this one is in controllable canonical form, kept for comparison: the
    matrices of `nengo_lmu.PadeDelay` ``(theta, order)``.

    Returns
    -------
    A : (order, order), B : (order, 1), C : (1, order), D : (1, 1) ndarrays
    """
    from nengo_lmu.systems.delays import PadeDelay

    return tuple(np.array(M) for M in PadeDelay(theta, order).ss)


class Realization:
    """A state-space realization of the LMU memory in some basis.

    The realized state ``x`` relates to the Legendre memory ``m`` by ``m = T x``;
    ``A = T^-1 A_legendre T`` and ``B = T^-1 B_legendre``.

    Parameters
    ----------
    order, theta : int, float
        The memory being realized.
    T : (order, order) array_like
        Change of basis, ``m = T x``.
    name : str
        A label for the basis ("legendre", "balanced", ...).
    """

    def __init__(self, order, theta, T=None, name="legendre"):
        self.order = check_order(order)
        self.theta = check_positive(theta, "theta")
        self.T = np.eye(self.order) if T is None else np.asarray(T, dtype=float)
        if self.T.shape != (self.order, self.order):
            raise ValidationError(
                f"Must have shape ({self.order}, {self.order}); got {self.T.shape}",
                attr="T",
                obj=self,
            )
        self.Tinv = np.linalg.inv(self.T)
        self.name = name
        A, B = lmu_matrices(self.order, self.theta)
        self.A = self.Tinv @ A @ self.T
        self.B = self.Tinv @ B

    def __repr__(self):
        return (
            f"Realization(order={self.order}, theta={self.theta}, name={self.name!r})"
        )

    def readout(self, r):
        """Rows decoding ``u(t - r theta)`` from this realization's state."""
        return legendre_readout(self.order, r) @ self.T

    def to_legendre(self, x):
        """Map realized states (..., order) to Legendre memory states."""
        return np.asarray(x) @ self.T.T

    def from_legendre(self, m):
        """Map Legendre memory states (..., order) to this realization's states."""
        return np.asarray(m) @ self.Tinv.T

    def discretize(self, dt, method="zoh"):
        """``(Ad, Bd)`` of this realization (see `discretize`)."""
        return discretize(self.A, self.B, dt, method=method)

    @property
    def system(self):
        """This realization as a `LinearSystem` whose outputs are its states."""
        return state_system(LinearSystem.from_ss(self.A, self.B, np.eye(self.order)))

    def state_radii(
        self, process=None, dt=0.001, duration=None, seed=0, n_trials=5, ball=False
    ):
        """Largest ``|x_i|`` reached by each realized state for an input process.

        `nengo_lmu.systems.radii.measure_radii` on this realization.

        Parameters
        ----------
        process : nengo.Process, optional
            Input signal (1-D). Default: `default_input_process` for this theta.
        dt : float
            Simulation time step.
        duration : float, optional
            Length of each simulated input (default ``max(20 theta, period)``).
        seed : int
            Seed of the first trial's input (trial ``k`` uses ``seed + k``).
        n_trials : int
            Independent input draws; the radius is the largest value over all of
            them (one draw of a 20-theta signal underestimated it by up to 30 %
            here, which saturated the neurons).
        ball : bool
            Scale the radii up together so that the scaled state vector
            ``x / radii`` stays inside the unit ball (with per-state peaks, the
            vector left the ball 7-14 % of the time).
        """
        process = default_input_process(self.theta) if process is None else process
        if duration is None:
            duration = max(20 * self.theta, getattr(process, "period", 0) or 0)
        return measure_radii(
            self.system,
            process,
            dt=dt,
            trials=n_trials,
            duration=duration,
            seed=seed,
            ball=ball,
        )

    def scaled(self, radii):
        """This realization with each state divided by ``radii`` (so it stays in
        ``[-1, 1]`` for inputs like the one the radii were measured on)."""
        radii = np.asarray(radii, dtype=float)
        if radii.shape != (self.order,) or np.any(~np.isfinite(radii) | (radii <= 0)):
            raise ValidationError(
                f"Must be {self.order} finite positive numbers; got {radii!r}",
                attr="radii",
                obj=self,
            )
        return Realization(
            self.order,
            self.theta,
            T=self.T * radii[None, :],
            name=self.name + "-scaled",
        )


def default_input_process(theta, order=None):
    """The input assumed when measuring state radii: band-limited white noise.

    ``high = 1 / theta`` (a few cycles per window), ``rms = 0.5`` (so that most of
    the signal lies in Nengo's usual ``[-1, 1]`` range) and starting at 0 (``y0``).
    """
    theta = check_positive(theta, "theta")
    return nengo.processes.WhiteSignal(
        period=20 * theta, high=1.0 / theta, rms=0.5, y0=0.0
    )


def realize(order, theta, realization="legendre", process=None, dt=0.001, r=1.0):
    """Return a `Realization` of the LMU memory in the chosen basis.

    Parameters
    ----------
    order, theta : int, float
    realization : {"legendre", "balanced", "scaled", "pade"}
        ``"legendre"``: the memory as is. ``"balanced"``: equal, diagonal
        controllability and observability Gramians for the readout at delay ``r``
        (Voelker 2019). ``"scaled"``: the Legendre basis with each state divided by
        the radius it reaches for ``process``. ``"pade"``: the controllable
        canonical form of the Pade delay (same transfer function, a different
        basis).
    process : nengo.Process, optional
        Input used by ``"scaled"``.
    dt : float
        Time step used by ``"scaled"`` to simulate ``process``.
    r : float
        Delay whose readout defines the observability Gramian (``"balanced"``).
    """
    check_choice(realization, REALIZATIONS, "realization")
    base = Realization(order, theta)
    if realization == "legendre":
        return base
    if realization == "scaled":
        return Realization(
            order, theta, T=np.diag(base.state_radii(process, dt=dt)), name="scaled"
        )
    A, B = lmu_matrices(order, theta)
    if realization == "balanced":
        readout = LinearSystem.from_ss(A, B, legendre_readout(order, r))
        _, T = readout.balancing_transform()  # m = T x_balanced
        return Realization(order, theta, T=T, name="balanced")
    # Pade: find T with A_leg T = T A_pade and B_leg = T B_pade, from the
    # controllability matrices of both (minimal) realizations.
    Ap, Bp, _, _ = pade_delay_matrices(order, theta)
    ctrb_l = np.hstack([np.linalg.matrix_power(A, k) @ B for k in range(order)])
    ctrb_p = np.hstack([np.linalg.matrix_power(Ap, k) @ Bp for k in range(order)])
    T = ctrb_l @ np.linalg.inv(ctrb_p)
    return Realization(order, theta, T=T, name="pade")


def simulate_memory(u, order, theta, dt=0.001, method="zoh"):
    """The exact discrete memory of each input dimension.

    Parameters
    ----------
    u : (n_steps, k) array_like
        Input signal.

    Returns
    -------
    m : (n_steps, k, order) ndarray
        ``m[t] = Ad m[t-1] + Bd u[t]`` starting from zero (the same convention as
        `LegendreMemory` in a Nengo Node and as Nengo's synapses).
    """
    u = np.asarray(u, dtype=float)
    if u.ndim == 1:
        u = u[:, None]
    if not np.all(np.isfinite(u)):
        raise ValidationError("Input contains NaN or infinity", attr="u")
    A, B = lmu_matrices(order, theta)
    Ad, Bd = discretize(A, B, dt, method=method)
    # scipy.signal.lfilter-free recursion: a loop over steps with a vectorized state.
    n_steps, k = u.shape
    m = np.zeros((n_steps, k, A.shape[0]))
    x = np.zeros((k, A.shape[0]))
    AdT = Ad.T
    Bd_row = Bd[:, 0]
    for t in range(n_steps):
        x = x @ AdT + u[t][:, None] * Bd_row[None, :]
        m[t] = x
    return m


def _warn_if_unstable(Ad, order, theta, dt, method):
    radius = np.max(np.abs(np.linalg.eigvals(Ad)))
    if radius >= 1.0:
        warnings.warn(
            f"The {method!r} discretization of an order-{order} memory with "
            f"theta/dt = {theta / dt:.3g} is unstable (spectral radius {radius:.3g} "
            ">= 1): make theta/dt well above the order (e.g. > 4 * order) or use "
            "method='zoh'.",
            RuntimeWarning,
            stacklevel=3,
        )


class LegendreMemory(nengo.Process):
    """The exact (neuron-free) LMU memory as a `nengo.Process`.

    ``nengo.Node(LegendreMemory(order, theta, size_in=k))`` outputs the memory of
    each of the ``k`` input dimensions: ``k * order`` values, dimension ``j``'s
    memory in ``output[j * order:(j + 1) * order]``.

    Parameters
    ----------
    order : int
        Dimensionality ``d`` of the memory (>= 1).
    theta : float
        Window length in seconds (finite, > 0).
    method : {"zoh", "euler"}
        Discretization used when simulated.
    size_in : int
        Number of input dimensions ``k``; the Node's ``size_in`` and ``size_out``
        default to ``k`` and ``k * order``. A Node given another ``size_in`` must
        also be given ``size_out = size_in * order``.

    Attributes
    ----------
    A : (order, order) ndarray
        Continuous state matrix, already divided by ``theta``.
    B : (order, 1) ndarray
        Continuous input matrix, already divided by ``theta``.

    Examples
    --------
    >>> import nengo
    >>> with nengo.Network() as net:
    ...     u = nengo.Node(1.0)
    ...     memory = nengo.Node(LegendreMemory(order=4, theta=0.1), size_in=1)
    ...     _ = nengo.Connection(u, memory, synapse=None)
    """

    order = StrictIntParam("order", low=1)
    theta = FiniteNumberParam("theta", low=0, low_open=True)
    method = EnumParam("method", values=DISCRETIZE_METHODS)

    def __init__(self, order, theta, method="zoh", size_in=1, **kwargs):
        self.order = order
        self.theta = theta
        self.method = method
        size_in = check_order(size_in, obj=self, attr="size_in")
        super().__init__(
            default_size_in=size_in, default_size_out=size_in * self.order, **kwargs
        )

    @property
    def system(self):
        """The memory as a `LinearSystem` (`LegendreDelay`: its state is the
        memory, its output the readout of ``u(t - theta)``)."""
        from nengo_lmu.systems.delays import LegendreDelay

        return LegendreDelay(self.theta, self.order)

    @property
    def A(self):
        """Continuous state matrix, divided by ``theta``."""
        return lmu_matrices(self.order, self.theta)[0]

    @property
    def B(self):
        """Continuous input matrix, divided by ``theta``."""
        return lmu_matrices(self.order, self.theta)[1]

    def discretize(self, dt, method=None):
        """Return ``(Ad, Bd)`` at time step ``dt`` (``method`` defaults to ours)."""
        method = self.method if method is None else method
        Ad, Bd = discretize(*lmu_matrices(self.order, self.theta), dt, method=method)
        if method == "euler":
            _warn_if_unstable(Ad, self.order, self.theta, dt, method)
        return Ad, Bd

    def make_state(self, shape_in, shape_out, dt, dtype=None):
        """The memory's state: one row of ``order`` values per input dimension."""
        dtype = np.float64 if dtype is None else dtype
        k = shape_in[0] if len(shape_in) else 1
        return {"X": np.zeros((k, self.order), dtype=dtype)}

    def make_step(self, shape_in, shape_out, dt, rng, state):
        """The step function: the ZOH-discretized memory, one update per time step."""
        k = shape_in[0] if len(shape_in) else 0
        if k < 1:
            raise ValidationError(
                "LegendreMemory needs an input (size_in >= 1)", attr="size_in", obj=self
            )
        if shape_out != (k * self.order,):
            raise ValidationError(
                f"size_out must be size_in * order = {k} * {self.order} = "
                f"{k * self.order}; got {shape_out[0]} (give the process "
                f"size_in={k}, or the Node size_out={k * self.order})",
                attr="size_out",
                obj=self,
            )
        AdT, Bd = self.discretize(dt)
        AdT = AdT.T
        Bd_row = Bd[:, 0]
        X = state["X"]

        def step_legendre_memory(t, u):
            if not np.all(np.isfinite(u)):
                raise ValidationError(
                    f"Input to LegendreMemory at t={t:.6g} is not finite: {u!r}",
                    attr="input",
                    obj=self,
                )
            X[...] = X @ AdT + u[:, None] * Bd_row[None, :]
            return X.ravel()

        return step_legendre_memory
