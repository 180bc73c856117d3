"""The LMU memory's own names, as views of `LinearSystem`.

The memory is `nengo_lmu.systems.delays.LegendreDelay`, a `LinearSystem`; the
functions here are the names LMU users know (`discretize`, `impulse_response`,
`simulate_memory`, `controllability_gramian`, `realize`, `LegendreMemory`), each
a thin call into that system, plus what is specific to the Legendre basis: its
readouts of delays (`legendre_readout`) and of any function of the window
(`window_readout`).

Conventions
-----------
The memory state ``m(t)`` (length ``order``) obeys ``dm/dt = A m + B u`` with ``A``
and ``B`` already divided by ``theta``. The delayed input is read out as
``u(t - r * theta) ~= legendre_readout(order, r) @ m(t)`` for ``0 <= r <= 1``.

Simulated at a time step ``dt``, the memory after the input of step ``k`` is
``m[k] = Ad m[k - 1] + Bd u[k]`` (`simulate_memory`, `LegendreMemory`): in the
package's one time convention (`LinearSystem.filter`), the output of the digital
system ``(Ad, Bd, C = Ad, D = Bd)``.

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
from nengo_lmu.systems.delays import (
    LegendreDelay,
    PadeDelay,
    lmu_matrices,
    pade_delay_matrices,
)
from nengo_lmu.systems.linear import LinearSystem, LinearSystemProcess
from nengo_lmu.systems.radii import measure_radii
from nengo_lmu.systems.statespace import discretize_matrices

__all__ = [
    "DISCRETIZE_METHODS",
    "REALIZATIONS",
    "LegendreMemory",
    "Realization",
    "controllability_gramian",
    "default_input_process",
    "discretize",
    "impulse_response",
    "legendre_readout",
    "lmu_matrices",
    "pade_delay_matrices",
    "realize",
    "simulate_memory",
    "window_readout",
]

DISCRETIZE_METHODS = ("zoh", "euler")
REALIZATIONS = ("legendre", "balanced", "scaled", "pade")


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
        ``x[k] = Ad x[k-1] + Bd u[k]``: those of `LinearSystem.discretize` (both
        are `nengo_lmu.systems.statespace.discretize_matrices`).

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
    return discretize_matrices(A, B, dt, method)


def impulse_response(Ad, Bd, n_steps):
    """``H[k] = Ad^k Bd`` for ``k = 0 .. n_steps - 1``, shape (n_steps, order): the
    discrete memory is ``m[t] = sum_k H[k] u[t - k]``.

    The impulse response (`LinearSystem.impulse`) of the digital system
    ``(Ad, Bd[:, :1], I, 0)``, one step later: ``H[k] = h[k + 1]``.

    Examples
    --------
    >>> Ad, Bd = discretize(*lmu_matrices(2, 1.0), dt=0.1)
    >>> H = impulse_response(Ad, Bd, 3)
    >>> np.allclose(H[2], Ad @ Ad @ Bd[:, 0])
    True
    """
    Ad = np.asarray(Ad, dtype=float)
    Bd = np.asarray(Bd, dtype=float)
    order = Ad.shape[0]
    # dt = 1: the response is counted in steps, whatever the time step
    states = LinearSystem.from_ss(Ad, Bd[:, :1], np.eye(order), dt=1.0)
    return states.impulse(n_steps + 1).reshape(n_steps + 1, order)[1:]


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
    """Solve ``A W + W A^T + B B^T = 0`` (the state covariance under white noise).

    `LinearSystem.controllability_gramian` of the analog system ``(A, B)``
    (stable ``A`` only).
    """
    A = np.asarray(A, dtype=float)
    return LinearSystem.from_ss(A, B, np.eye(A.shape[0])).controllability_gramian()


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
        cov = LegendreDelay(1.0, order).controllability_gramian()
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


class Realization:
    """A state-space realization of the LMU memory in some basis.

    The realized state ``x`` relates to the Legendre memory ``m`` by ``m = T x``;
    ``A = T^-1 A_legendre T`` and ``B = T^-1 B_legendre``: the memory's
    `LinearSystem` (`LegendreDelay`) in the basis ``x = T^-1 m``, with the
    realized states as outputs (`system`).

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
        delay = LegendreDelay(self.theta, self.order)
        # T^-1 A T with the explicit inverse rather than delay.transform(Tinv),
        # which refuses a T that is singular to working precision: the Pade
        # basis of a high-order memory is (cond(T) ~ 1e27 at order 12), and
        # realize has always returned it.
        self._system = LinearSystem.from_ss(
            self.Tinv @ delay.A @ self.T, self.Tinv @ delay.B, np.eye(self.order)
        )

    @property
    def A(self):
        """State matrix of the realized state, ``T^-1 A_legendre T``."""
        return self._system.A

    @property
    def B(self):
        """Input matrix of the realized state, ``T^-1 B_legendre``."""
        return self._system.B

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
        return self._system

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
    pade = PadeDelay(theta, order)
    Ap, Bp = pade.A, pade.B
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
        `LegendreMemory` in a Nengo Node and as Nengo's synapses): the output of
        the digital system ``(Ad, Bd, Ad, Bd)`` simulated by `LinearSystem.filter`.
    """
    u = np.asarray(u, dtype=float)
    if u.ndim == 1:
        u = u[:, None]
    if not np.all(np.isfinite(u)):
        raise ValidationError("Input contains NaN or infinity", attr="u")
    Ad, Bd = discretize(*lmu_matrices(order, theta), dt, method=method)
    memory = _memory_after_each_step(Ad, Bd, dt)
    return np.stack([memory.filter(u_j[:, None]) for u_j in u.T], axis=1)


def _memory_after_each_step(Ad, Bd, dt):
    """The digital system whose output at step ``k`` is the memory after the
    input of that step, ``m[k] = Ad m[k - 1] + Bd u[k]``: ``A = C = Ad`` and
    ``B = D = Bd`` (in the convention of `LinearSystem.filter`, the output of step
    ``k`` is the state after its update)."""
    return LinearSystem.from_ss(Ad, Bd[:, :1], Ad, Bd[:, :1], dt=dt)


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


class LegendreMemory(LinearSystemProcess):
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

    Notes
    -----
    A `LinearSystemProcess` of the memory: at the simulator's ``dt`` it steps
    the digital system ``(Ad, Bd, C = Ad, D = Bd)`` of each input dimension,
    whose output at step ``k`` is the memory after the input of that step,
    ``m[k] = Ad m[k - 1] + Bd u[k]`` (as `simulate_memory`).

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
        # Not LinearSystemProcess.__init__: the system follows order and theta
        # (the `system` property) rather than being a parameter of its own.
        nengo.Process.__init__(
            self,
            default_size_in=size_in,
            default_size_out=size_in * self.order,
            **kwargs,
        )

    @property
    def system(self):
        """The memory as a `LinearSystem` (`LegendreDelay`: its state is the
        memory, its output the readout of ``u(t - theta)``)."""
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
        """The memory's state: ``order`` values per input dimension."""
        dtype = np.float64 if dtype is None else dtype
        k = shape_in[0] if len(shape_in) else 1
        return {"X": np.zeros(k * self.order, dtype=dtype)}

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
        Ad, Bd = self.discretize(dt)
        # one memory, stepped on each of the k input dimensions
        memory = _memory_after_each_step(Ad, Bd, dt)
        return self._step_function(memory, state["X"], channels=k)
