"""Linear time-invariant systems in state space, analog or digital.

`LinearSystem` holds one realization ``(A, B, C, D)`` of a system, either analog
(continuous time, ``dt=None``)::

    dx/dt = A x + B u,        y = C x + D u

or digital (discrete time, step ``dt``)::

    x[k + 1] = A x[k] + B u[k],        y[k] = C x[k] + D u[k]

It is built from a state space, a transfer function, zeros/poles/gain or a
`nengo.LinearFilter`, and it answers the questions the rest of the package asks
of a system: its transfer function, frequency and impulse responses, simulation
on an array or in a `nengo.Node` (`LinearSystemProcess`), stability, Gramians
and Hankel singular values, and other realizations of the same transfer function
(`LinearSystem.transform`, `LinearSystem.balanced`,
`LinearSystem.balanced_truncation`).

References
----------
.. [1] Voelker. "Dynamical systems in spiking neuromorphic hardware." PhD thesis,
   University of Waterloo, 2019.
.. [2] Antoulas. "Approximation of Large-Scale Dynamical Systems." SIAM, 2005.
"""

import math
import numbers

import nengo
import numpy as np
import scipy.linalg
import scipy.signal
from nengo.exceptions import ValidationError
from nengo.params import Parameter

from nengo_lmu._validation import check_choice, check_order, check_positive

_DISCRETIZE_METHODS = ("zoh", "euler", "bilinear")

# Two digital systems, or a digital system and a simulator, share a time step
# when their dts agree to this relative tolerance (dts typed as 0.001 and 1e-3,
# or computed as 1 / 1000, differ by rounding only).
_DT_RTOL = 1e-9

# Batched solves of (s I - A) X = B are split into chunks of about this many
# matrix entries, so that a long frequency grid of a large system does not
# allocate gigabytes at once.
_SOLVE_CHUNK_ENTRIES = 2_000_000

_ACCEPTED = (
    "a 4-tuple (A, B, C, D), a 2-tuple (num, den), a nengo.LinearFilter or a "
    "LinearSystem (use LinearSystem.from_zpk for zeros, poles and gain)"
)


def _same_dt(dt1, dt2):
    return math.isclose(dt1, dt2, rel_tol=_DT_RTOL, abs_tol=0.0)


def _check_dt(dt, obj=None):
    """``None`` (analog) or a finite ``dt > 0`` (digital)."""
    return None if dt is None else check_positive(dt, "dt", obj=obj)


def _real_array(value, attr):
    """``value`` as a new, real, finite float array (any shape)."""
    try:
        array = np.array(value)
    except (TypeError, ValueError) as e:
        raise ValidationError(
            f"Must be a real numeric array; got {value!r}", attr=attr
        ) from e
    if np.iscomplexobj(array):
        if np.any(array.imag != 0):
            raise ValidationError(
                f"Must be real (the system maps real signals to real signals); "
                f"got {value!r}",
                attr=attr,
            )
        array = array.real
    if array.dtype.kind not in "biuf":
        raise ValidationError(f"Must be a real numeric array; got {value!r}", attr=attr)
    array = np.array(array, dtype=float)
    if not np.all(np.isfinite(array)):
        raise ValidationError(
            f"Must contain only finite numbers; got {value!r}", attr=attr
        )
    return array


def _check_ss(A, B, C, D):
    """Validate and shape ``(A, B, C, D)``; returns four float arrays.

    Scalars are 1 x 1 matrices, a 1-D ``B`` is a column and a 1-D ``C`` a row (the
    usual single-input single-output shorthand); ``D=None`` is a zero matrix.
    """
    A = _real_array(A, "A")
    if A.ndim == 0:
        A = A.reshape(1, 1)
    elif A.ndim == 1 and A.size == 0:
        A = A.reshape(0, 0)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValidationError(
            f"Must be a square (n, n) matrix; got shape {A.shape}", attr="A"
        )
    n = A.shape[0]

    B = _real_array(B, "B")
    if B.ndim == 0:
        B = B.reshape(1, 1)
    elif B.ndim == 1:
        B = B.reshape(-1, 1)
    if B.ndim != 2 or B.shape[0] != n or B.shape[1] < 1:
        raise ValidationError(
            f"Must have shape (n, k) = ({n}, k), k >= 1, to match A of shape "
            f"{A.shape}; got shape {B.shape}",
            attr="B",
        )
    C = _real_array(C, "C")
    if C.ndim == 0:
        C = C.reshape(1, 1)
    elif C.ndim == 1:
        C = C.reshape(1, -1)
    if C.ndim != 2 or C.shape[1] != n or C.shape[0] < 1:
        raise ValidationError(
            f"Must have shape (p, n) = (p, {n}), p >= 1, to match A of shape "
            f"{A.shape}; got shape {C.shape}",
            attr="C",
        )
    p, k = C.shape[0], B.shape[1]
    D = np.zeros((p, k)) if D is None else _real_array(D, "D")
    if D.ndim == 0 and (p, k) == (1, 1):
        D = D.reshape(1, 1)
    if D.shape != (p, k):
        raise ValidationError(
            f"Must have shape (p, k) = ({p}, {k}) to match C of shape {C.shape} "
            f"and B of shape {B.shape}; got shape {D.shape}",
            attr="D",
        )
    return A, B, C, D


def _polynomial(value, attr):
    """A 1-D coefficient array (descending powers) with leading zeros removed."""
    coefficients = _real_array(value, attr)
    if coefficients.ndim == 0:
        coefficients = coefficients.reshape(1)
    if coefficients.ndim != 1:
        raise ValidationError(
            f"Must be a 1-D array of polynomial coefficients (descending powers); "
            f"got shape {coefficients.shape}",
            attr=attr,
        )
    return np.trim_zeros(coefficients, "f")


def _tf_to_ss(num, den):
    """Controllable canonical realization of ``num(s) / den(s)``.

    With ``den`` monic, ``H(s) = D + (c_1 s^(n-1) + ... + c_n) / (s^n + a_1 s^(n-1)
    + ... + a_n)``: the first row of ``A`` is ``-a``, ones below the diagonal feed
    each state into the next, ``B = e_1`` and ``C = c``.
    """
    num = _polynomial(num, "num")
    den = _polynomial(den, "den")
    if den.size == 0:
        raise ValidationError(
            "Must have a nonzero coefficient (a zero denominator is no system); "
            "got all zeros",
            attr="den",
        )
    if num.size == 0:
        num = np.zeros(1)
    if num.size > den.size:
        raise ValidationError(
            f"Must have degree <= the degree of den ({den.size - 1}) for the system "
            f"to be proper (realizable in state space); got degree {num.size - 1}",
            attr="num",
        )
    num = num / den[0]
    den = den / den[0]
    n = den.size - 1
    num = np.concatenate([np.zeros(n + 1 - num.size), num])
    D = np.array([[num[0]]])
    A = np.zeros((n, n))
    if n > 0:
        A[0, :] = 0.0 - den[1:]  # 0.0 - c, not -c: no negative zeros in A
    A[np.arange(1, n), np.arange(n - 1)] = 1.0
    B = np.zeros((n, 1))
    B[:1, 0] = 1.0
    C = (num[1:] - num[0] * den[1:])[None, :]
    return A, B, C, D


def _real_polynomial_from_roots(roots, attr):
    """Monic polynomial (descending powers) with the given roots; they must come in
    complex-conjugate pairs so that its coefficients are real."""
    roots = np.atleast_1d(np.asarray(roots, dtype=complex))
    if roots.ndim != 1 or not np.all(np.isfinite(roots)):
        raise ValidationError(
            f"Must be a 1-D array of finite (complex) numbers; got {roots!r}",
            attr=attr,
        )
    coefficients = np.ones(1, dtype=complex)
    for root in roots:
        coefficients = np.convolve(coefficients, [1.0, -root])
    scale = np.max(np.abs(coefficients))
    # Conjugate pairs typed or computed with rounding leave an imaginary part at
    # the level of that rounding; an unpaired complex root leaves one of the
    # order of the coefficients themselves.
    if np.max(np.abs(coefficients.imag)) > 1e-9 * scale:
        raise ValidationError(
            f"Complex values must come in conjugate pairs (the system is real); "
            f"got {roots!r}",
            attr=attr,
        )
    return coefficients.real


def _psd_factor(W):
    """A square ``L`` with ``W = L L^T`` for a symmetric positive semidefinite ``W``.

    Cholesky when ``W`` is numerically positive definite; otherwise (a system that
    is not minimal, or nearly so) the symmetric eigendecomposition with negative
    rounding-level eigenvalues clipped to zero.
    """
    W = (W + W.T) / 2
    try:
        return np.linalg.cholesky(W)
    except np.linalg.LinAlgError:
        eigenvalues, V = np.linalg.eigh(W)
        return V * np.sqrt(np.clip(eigenvalues, 0, None))[None, :]


class LinearSystem:
    """A linear time-invariant system in state space, analog or digital.

    Analog (``dt=None``): ``dx/dt = A x + B u``, ``y = C x + D u``. Digital
    (``dt > 0``): ``x[k + 1] = A x[k] + B u[k]``, ``y[k] = C x[k] + D u[k]``.

    Parameters
    ----------
    sys : tuple, nengo.LinearFilter or LinearSystem
        ``(A, B, C, D)`` (state space; ``A`` (n, n), ``B`` (n, k), ``C`` (p, n),
        ``D`` (p, k)), ``(num, den)`` (single-input single-output transfer
        function, coefficients in descending powers of ``s`` or ``z``), a
        `nengo.LinearFilter` (see `from_synapse`) or another `LinearSystem`.
        Zeros, poles and gain go through `from_zpk`: a 3-tuple is not accepted
        here.
    dt : float, optional
        Time step of a digital system, in seconds; ``None`` (the default) for an
        analog one.

    Attributes
    ----------
    A, B, C, D : ndarray
        The realization (read-only copies).
    dt : float or None
        Time step (``None`` when analog).

    Notes
    -----
    A transfer function ``H = num / den`` is realized in controllable canonical
    form (see `from_tf`). The same transfer function has infinitely many
    realizations ``(T A T^-1, T B, C T^-1, D)``; `transform`, `balanced` and
    `balanced_truncation` give others, and `transfer_equal` compares systems by
    transfer function, whatever their realizations.

    Examples
    --------
    A lowpass filter ``1 / (0.1 s + 1)``, analog:

    >>> sys = LinearSystem(([1], [0.1, 1]))
    >>> sys
    LinearSystem(order=1, size_in=1, size_out=1, dt=None)
    >>> sys.A, sys.B, sys.C, sys.D
    (array([[-10.]]), array([[1.]]), array([[10.]]), array([[0.]]))
    >>> sys.is_stable
    True
    """

    def __init__(self, sys, dt=None):
        dt = _check_dt(dt)
        if isinstance(sys, LinearSystem):
            if dt is not None and (sys.analog or not _same_dt(dt, sys.dt)):
                raise ValidationError(
                    f"Must be None or the given system's dt ({sys.dt!r}); got "
                    f"{dt!r} (use LinearSystem.discretize to make an analog system "
                    "digital)",
                    attr="dt",
                )
            A, B, C, D, dt = sys.A, sys.B, sys.C, sys.D, sys.dt
        elif isinstance(sys, nengo.LinearFilter):
            A, B, C, D, dt = self._synapse_ss(sys, dt)
        elif isinstance(sys, (tuple, list)) and len(sys) == 4:
            A, B, C, D = sys
        elif isinstance(sys, (tuple, list)) and len(sys) == 2:
            A, B, C, D = _tf_to_ss(*sys)
        else:
            raise ValidationError(f"Must be {_ACCEPTED}; got {sys!r}", attr="sys")
        self._A, self._B, self._C, self._D = (
            self._frozen(M) for M in _check_ss(A, B, C, D)
        )
        self._dt = dt

    @staticmethod
    def _frozen(M):
        M.flags.writeable = False  # _check_ss made it: a copy nothing else holds
        return M

    @staticmethod
    def _synapse_ss(synapse, dt):
        if synapse.analog and dt is not None:
            raise ValidationError(
                f"Must be None for an analog synapse (it is a continuous system); "
                f"got {dt!r} (use LinearSystem.discretize to make it digital)",
                attr="dt",
            )
        if not synapse.analog and dt is None:
            raise ValidationError(
                "Must be given for a digital synapse (analog=False): its "
                "coefficients are in powers of z, which have no time step of "
                "their own; got None",
                attr="dt",
            )
        return (*_tf_to_ss(synapse.num, synapse.den), dt)

    # -- constructors -------------------------------------------------------------

    @classmethod
    def from_ss(cls, A, B, C, D=None, dt=None):
        """The system with state-space matrices ``(A, B, C, D)``.

        Parameters
        ----------
        A : (n, n) array_like
        B : (n, k) array_like
            A 1-D ``B`` is one input column.
        C : (p, n) array_like
            A 1-D ``C`` is one output row.
        D : (p, k) array_like, optional
            Feedthrough; zero by default.
        dt : float, optional
            Time step of a digital system (``None``: analog).

        Returns
        -------
        LinearSystem

        Examples
        --------
        >>> sys = LinearSystem.from_ss([[-1.0]], [1.0], [2.0], dt=None)
        >>> sys.tf
        (array([0., 2.]), array([1., 1.]))
        """
        return cls((A, B, C, D), dt=dt)

    @classmethod
    def from_tf(cls, num, den, dt=None):
        """The single-input single-output system ``H = num / den``.

        Parameters
        ----------
        num, den : array_like
            Polynomial coefficients in descending powers of ``s`` (analog) or
            ``z`` (digital). ``num`` must not have a higher degree than ``den``
            (the system must be proper).
        dt : float, optional
            Time step of a digital system (``None``: analog).

        Returns
        -------
        LinearSystem
            In controllable canonical form.

        Notes
        -----
        With ``den`` scaled to be monic and ``D`` the ratio of the leading
        coefficients,

        .. math::

            H(s) = D + \\frac{c_1 s^{n-1} + \\dots + c_n}
                          {s^n + a_1 s^{n-1} + \\dots + a_n}

        is realized with ``A``'s first row ``-a``, ones on its subdiagonal,
        ``B = e_1`` and ``C = c``.

        Examples
        --------
        >>> sys = LinearSystem.from_tf([1.0, 0.0], [1.0, 3.0, 2.0])
        >>> sys.A
        array([[-3., -2.],
               [ 1.,  0.]])
        >>> sys.C
        array([[1., 0.]])
        """
        return cls((num, den), dt=dt)

    @classmethod
    def from_zpk(cls, z, p, k, dt=None):
        """The single-input single-output system with zeros ``z``, poles ``p`` and
        gain ``k``.

        Parameters
        ----------
        z, p : array_like
            Zeros and poles (complex ones in conjugate pairs); at most as many
            zeros as poles.
        k : float
            Gain: ``H(s) = k prod(s - z_i) / prod(s - p_i)``.
        dt : float, optional
            Time step of a digital system (``None``: analog).

        Returns
        -------
        LinearSystem
            In controllable canonical form (see `from_tf`).

        Examples
        --------
        >>> sys = LinearSystem.from_zpk([], [-1 + 2j, -1 - 2j], 5.0)
        >>> num, den = sys.tf
        >>> bool(np.allclose(num, [0, 0, 5]) and np.allclose(den, [1, 2, 5]))
        True
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Number):
            raise ValidationError(f"Must be a real number; got {k!r}", attr="k")
        if isinstance(k, numbers.Complex) and not isinstance(k, numbers.Real):
            if k.imag != 0:
                raise ValidationError(f"Must be a real number; got {k!r}", attr="k")
            k = k.real
        if not np.isfinite(k):
            raise ValidationError(f"Must be a finite number; got {k!r}", attr="k")
        num = float(k) * _real_polynomial_from_roots(z, "z")
        den = _real_polynomial_from_roots(p, "p")
        return cls((num, den), dt=dt)

    @classmethod
    def from_synapse(cls, synapse, dt=None):
        """The system of a `nengo.LinearFilter` (`nengo.Lowpass`, `nengo.Alpha`...).

        Parameters
        ----------
        synapse : nengo.LinearFilter
            Its ``num`` and ``den`` are the transfer function; ``analog`` says
            whether they are in powers of ``s`` or of ``z``.
        dt : float, optional
            Required for a digital synapse (``analog=False``), whose coefficients
            carry no time step; must be ``None`` for an analog one.

        Returns
        -------
        LinearSystem
            In controllable canonical form (see `from_tf`).

        Notes
        -----
        This is the synapse's transfer function. Nengo simulates a strictly
        proper synapse one step earlier than `filter` and `LinearSystemProcess`
        do (its output at step ``k`` already includes the input at step ``k``):
        ``filter(u, dt)[k + 1] == synapse.filt(u, dt=dt)[k]``.

        Examples
        --------
        >>> sys = LinearSystem.from_synapse(nengo.Lowpass(0.1))
        >>> sys.tf
        (array([ 0., 10.]), array([ 1., 10.]))
        >>> LinearSystem.from_synapse(nengo.LinearFilter([1], [1, 0])).poles
        array([0.+0.j])
        """
        if not isinstance(synapse, nengo.LinearFilter):
            raise ValidationError(
                f"Must be a nengo.LinearFilter (Lowpass, Alpha, ...); got {synapse!r}",
                attr="synapse",
            )
        return cls(synapse, dt=dt)

    # -- properties ---------------------------------------------------------------

    @property
    def A(self):
        """State matrix, (order, order)."""
        return self._A

    @property
    def B(self):
        """Input matrix, (order, size_in)."""
        return self._B

    @property
    def C(self):
        """Output matrix, (size_out, order)."""
        return self._C

    @property
    def D(self):
        """Feedthrough matrix, (size_out, size_in)."""
        return self._D

    @property
    def dt(self):
        """Time step in seconds, or ``None`` for an analog system."""
        return self._dt

    @property
    def analog(self):
        """True for a continuous-time system (``dt is None``)."""
        return self._dt is None

    @property
    def order(self):
        """Number of states."""
        return self._A.shape[0]

    @property
    def size_in(self):
        """Number of inputs."""
        return self._B.shape[1]

    @property
    def size_out(self):
        """Number of outputs."""
        return self._C.shape[0]

    @property
    def ss(self):
        """``(A, B, C, D)``."""
        return self._A, self._B, self._C, self._D

    @property
    def poles(self):
        """Eigenvalues of ``A`` (complex), in LAPACK's order."""
        return np.linalg.eigvals(self._A).astype(complex)

    def _check_siso(self, attr):
        if self.size_in != 1 or self.size_out != 1:
            raise ValidationError(
                f"Only defined for single-input single-output systems; this one "
                f"has size_in={self.size_in}, size_out={self.size_out}",
                attr=attr,
                obj=self,
            )

    @property
    def tf(self):
        """``(num, den)``: the transfer function, single-input single-output only.

        Both have ``order + 1`` coefficients in descending powers, ``den`` monic
        (the characteristic polynomial of ``A``). For a strictly proper system
        the leading coefficients of ``num`` are zero up to rounding. Pole-zero
        cancellations of a non-minimal realization are kept.

        Notes
        -----
        With ``det(sI - A + B C) = det(sI - A) (1 + C (sI - A)^-1 B)`` (the matrix
        determinant lemma), ``num = det(sI - A + BC) - det(sI - A) + D det(sI - A)``.
        """
        self._check_siso("tf")
        if self.order == 0:
            return self._D[0].copy(), np.ones(1)
        den = np.real(np.poly(self._A))
        num = np.real(np.poly(self._A - self._B @ self._C)) - den + self._D[0, 0] * den
        return num, den

    @property
    def zpk(self):
        """``(zeros, poles, gain)``, single-input single-output only.

        ``H(s) = gain * prod(s - zeros) / prod(s - poles)``.

        Notes
        -----
        The zeros are the finite generalized eigenvalues of the pencil
        ``([[A, B], [-C, -D]], diag(I, 0))``, whose determinant is the numerator
        ``det(sI - A) H(s)``; its infinite eigenvalues (``r + 1`` of them, for
        the relative degree ``r = order - len(zeros)``) are discarded. The gain
        is the first nonzero Markov parameter: ``D`` if ``r = 0``, else
        ``C A^(r-1) B``.
        """
        self._check_siso("zpk")
        n = self.order
        poles = self.poles
        if n == 0:
            return np.zeros(0, dtype=complex), poles, float(self._D[0, 0])
        M = np.block([[self._A, self._B], [-self._C, -self._D]])
        N = np.zeros((n + 1, n + 1))
        N[:n, :n] = np.eye(n)
        alpha, beta = scipy.linalg.eig(M, N, right=False, homogeneous_eigvals=True)
        # An infinite eigenvalue comes out with beta at rounding level relative to
        # alpha; the threshold keeps zeros up to ~1e12 times the pencil's scale.
        finite = np.abs(beta) > 1e3 * np.finfo(float).eps * np.abs(alpha)
        zeros = alpha[finite] / beta[finite]
        r = n - zeros.size
        if r == 0:
            gain = self._D[0, 0]
        else:
            gain = (self._C @ np.linalg.matrix_power(self._A, r - 1) @ self._B)[0, 0]
        if gain == 0:
            # H = 0: the pencil is singular and its "zeros" meaningless.
            zeros = np.zeros(0, dtype=complex)
        return zeros.astype(complex), poles, float(gain)

    @property
    def is_stable(self):
        """Asymptotic stability: every pole has real part < 0 (analog) or modulus
        < 1 (digital). A system with no state is stable."""
        poles = self.poles
        if self.analog:
            return bool(np.all(poles.real < 0))
        return bool(np.all(np.abs(poles) < 1))

    def __repr__(self):
        return (
            f"{type(self).__name__}(order={self.order}, size_in={self.size_in}, "
            f"size_out={self.size_out}, dt={self._dt!r})"
        )

    def __reduce__(self):
        # Rebuilt through the constructor, so an unpickled system is validated
        # and its matrices are read-only again.
        return type(self), ((self._A, self._B, self._C, self._D), self._dt)

    # -- conversions --------------------------------------------------------------

    def _check_dt_argument(self, dt, need_for_analog):
        """The time step to use: a digital system's own (``dt`` must be ``None`` or
        equal to it), or ``dt`` for an analog one (required when
        ``need_for_analog``)."""
        if self.analog:
            if dt is None and need_for_analog:
                raise ValidationError(
                    "Must be given for an analog system (the time step at which "
                    "it is sampled); got None",
                    attr="dt",
                    obj=self,
                )
            return _check_dt(dt, obj=self)
        if dt is not None:
            dt = check_positive(dt, "dt", obj=self)
            if not _same_dt(dt, self._dt):
                raise ValidationError(
                    f"Must be None or this digital system's dt ({self._dt!r}); got "
                    f"{dt!r}",
                    attr="dt",
                    obj=self,
                )
        return self._dt

    def discretize(self, dt, method="zoh"):
        """The digital system that samples this analog one every ``dt`` seconds.

        Parameters
        ----------
        dt : float
            Time step in seconds (> 0).
        method : {"zoh", "euler", "bilinear"}
            ``"zoh"``: exact for an input held constant over each step (stable
            whenever the analog system is). ``"euler"``: forward Euler, stable
            only for small enough ``dt``. ``"bilinear"``: Tustin's transform
            ``s = (2 / dt) (z - 1) / (z + 1)``, which maps the stable half plane
            onto the unit disk and warps frequencies.

        Returns
        -------
        LinearSystem
            Digital, with time step ``dt``.

        Notes
        -----
        Zero-order hold: ``A_d = expm(A dt)``, ``B_d = int_0^dt expm(A t) dt' B``,
        ``C_d = C``, ``D_d = D``. Euler: ``A_d = I + dt A``, ``B_d = dt B``. Both
        ZOH and bilinear are computed by `scipy.signal.cont2discrete`.

        Examples
        --------
        >>> sys = LinearSystem(([1], [1, 1])).discretize(0.5, method="euler")
        >>> float(sys.A[0, 0]), float(sys.B[0, 0]), sys.dt
        (0.5, 0.5, 0.5)
        """
        if not self.analog:
            raise ValidationError(
                f"Can only discretize an analog system; this one is already digital "
                f"(dt={self._dt!r})",
                attr="dt",
                obj=self,
            )
        dt = check_positive(dt, "dt", obj=self)
        check_choice(method, _DISCRETIZE_METHODS, "method", obj=self)
        A, B, C, D = self.ss
        if self.order == 0:
            pass  # a pure gain is the same in both time domains
        elif method == "euler":
            A, B = np.eye(self.order) + dt * A, dt * B
        else:
            A, B, C, D, _ = scipy.signal.cont2discrete((A, B, C, D), dt, method=method)
        return LinearSystem((A, B, C, D), dt=dt)

    def transform(self, T):
        """The same system in the basis ``x' = T x``.

        Parameters
        ----------
        T : (order, order) array_like
            An invertible change of basis.

        Returns
        -------
        LinearSystem
            ``(T A T^-1, T B, C T^-1, D)``: the same transfer function.

        Examples
        --------
        >>> sys = LinearSystem(([1], [1, 3, 2]))
        >>> sys2 = sys.transform([[1.0, 1.0], [0.0, 2.0]])
        >>> sys2.transfer_equal(sys)
        True
        """
        n = self.order
        T = _real_array(T, "T")
        if T.shape != (n, n):
            raise ValidationError(
                f"Must have shape (order, order) = ({n}, {n}); got shape {T.shape}",
                attr="T",
                obj=self,
            )
        if n == 0:
            return LinearSystem(self)
        cond = np.linalg.cond(T)
        if not cond < 1 / np.finfo(float).eps:
            raise ValidationError(
                f"Must be invertible; got a matrix with condition number {cond:.3g}",
                attr="T",
                obj=self,
            )
        # Solves rather than an explicit inverse: X T^-1 = (T^-T X^T)^T.
        A = np.linalg.solve(T.T, (T @ self._A).T).T
        C = np.linalg.solve(T.T, self._C.T).T
        return LinearSystem((A, T @ self._B, C, self._D), dt=self._dt)

    # -- responses ----------------------------------------------------------------

    @staticmethod
    def _siso_or_full(H):
        return H[:, 0, 0] if H.shape[1:] == (1, 1) else H

    def impulse(self, n_steps, dt=None):
        """The impulse response, sampled.

        Parameters
        ----------
        n_steps : int
            Number of samples (>= 1).
        dt : float, optional
            Sampling step: required for an analog system; for a digital one,
            ``None`` or its own ``dt``.

        Returns
        -------
        h : ndarray
            ``(n_steps,)`` for a single-input single-output system, else
            ``(n_steps, size_out, size_in)`` with ``h[k, i, j]`` the response of
            output ``i`` to an impulse on input ``j``.

        Notes
        -----
        Digital: the response to the unit sequence ``u[0] = 1``, ``u[k > 0] = 0``:
        ``h[0] = D``, ``h[k] = C A^(k-1) B``.

        Analog: the continuous impulse response ``h(t) = C expm(A t) B`` at
        ``t = k dt``. A nonzero ``D`` adds a Dirac delta ``D delta(t)`` at
        ``t = 0``, which has no sampled value: it is left out.

        Examples
        --------
        >>> sys = LinearSystem(([1], [0.1, 1]))  # exp(-t / 0.1) / 0.1
        >>> np.allclose(sys.impulse(3, dt=0.1), 10 * np.exp(-np.arange(3)))
        True
        """
        n_steps = check_order(n_steps, obj=self, attr="n_steps")
        dt = self._check_dt_argument(dt, need_for_analog=True)
        A, B, C, D = self.ss
        h = np.zeros((n_steps, self.size_out, self.size_in))
        if self.analog:
            step = scipy.linalg.expm(A * dt)
            first = 0
        else:
            step = A
            h[0] = D
            first = 1
        X = B.copy()  # expm(A k dt) B (analog) or A^(k - 1) B (digital)
        for k in range(first, n_steps):
            h[k] = C @ X
            X = step @ X
        return self._siso_or_full(h)

    def _evaluate(self, s):
        """``H(s) = C (sI - A)^-1 B + D`` at complex points ``s``, (len(s), p, k);
        infinite at a pole."""
        A, B, C, D = self.ss
        n = self.order
        H = np.empty((s.size, self.size_out, self.size_in), dtype=complex)
        if n == 0:
            H[:] = D
            return H
        chunk = max(1, _SOLVE_CHUNK_ENTRIES // (n * n))
        identity = np.eye(n)
        for start in range(0, s.size, chunk):
            si = s[start : start + chunk]
            M = si[:, None, None] * identity - A
            try:
                X = np.linalg.solve(M, np.broadcast_to(B, (si.size, n, self.size_in)))
                H[start : start + chunk] = C @ X + D
            except np.linalg.LinAlgError:
                # Some point is exactly a pole: redo this chunk point by point.
                for i, Mi in enumerate(M):
                    try:
                        H[start + i] = C @ np.linalg.solve(Mi, B) + D
                    except np.linalg.LinAlgError:
                        H[start + i] = np.inf
        return H

    def frequency_response(self, omega):
        """The frequency response at angular frequencies ``omega`` (rad/s).

        Parameters
        ----------
        omega : float or array_like
            Angular frequencies in rad/s (1-D). For a digital system, frequencies
            above Nyquist (``pi / dt``) alias.

        Returns
        -------
        H : complex ndarray
            ``(len(omega),)`` for a single-input single-output system, else
            ``(len(omega), size_out, size_in)``; infinite at a pole.

        Notes
        -----
        Analog: ``H(j omega)``; digital: ``H(exp(j omega dt))``, with
        ``H(s) = C (sI - A)^-1 B + D`` evaluated by one linear solve per
        frequency.

        Examples
        --------
        >>> sys = LinearSystem(([1], [0.1, 1]))
        >>> H = sys.frequency_response([0.0, 10.0])
        >>> np.allclose(H, [1.0, 1 / (1 + 1j)])
        True
        """
        omega = _real_array(omega, "omega")
        omega = np.atleast_1d(omega)
        if omega.ndim != 1:
            raise ValidationError(
                f"Must be a scalar or 1-D array; got shape {omega.shape}",
                attr="omega",
                obj=self,
            )
        s = 1j * omega if self.analog else np.exp(1j * omega * self._dt)
        return self._siso_or_full(self._evaluate(s))

    def filter(self, u, dt=None):
        """Simulate the system from rest (``x = 0``) on an input signal.

        Parameters
        ----------
        u : (n_steps,) or (n_steps, size_in) array_like
            Input, one row per time step (1-D only when ``size_in == 1``).
        dt : float, optional
            Time step: required for an analog system, which is first discretized
            with a zero-order hold (`discretize`); for a digital one, ``None`` or
            its own ``dt``.

        Returns
        -------
        y : ndarray
            ``(n_steps, size_out)``, or ``(n_steps,)`` for a single-input
            single-output system given a 1-D ``u``.

        Notes
        -----
        ``x[0] = 0``, ``y[k] = C x[k] + D u[k]``, ``x[k + 1] = A x[k] + B u[k]``
        (the convention of `scipy.signal.dlsim`): a strictly proper system's
        output at step ``k`` depends on inputs up to ``k - 1``. The state update is
        a Python loop over steps (about 1 us per step for a few states: 0.1 to
        0.3 s for 1e5 steps); everything else is vectorized.

        Examples
        --------
        >>> sys = LinearSystem(([1], [1, -0.5]), dt=1.0)  # y[k] = 0.5 y[k-1] + u[k-1]
        >>> sys.filter([1.0, 0.0, 0.0, 0.0])
        array([0.  , 1.  , 0.5 , 0.25])
        """
        u = _real_array(u, "u")
        squeeze = False
        if u.ndim == 1 and self.size_in == 1:
            u = u[:, None]
            squeeze = self.size_out == 1
        if u.ndim != 2 or u.shape[1] != self.size_in:
            raise ValidationError(
                f"Must have shape (n_steps, size_in) = (n_steps, {self.size_in})"
                f"{' or (n_steps,)' if self.size_in == 1 else ''}; got shape "
                f"{u.shape}",
                attr="u",
                obj=self,
            )
        dt = self._check_dt_argument(dt, need_for_analog=True)
        sys = self.discretize(dt) if self.analog else self
        A, B, C, D = sys.ss
        n_steps = u.shape[0]
        X = np.zeros((n_steps, self.order))
        if self.order > 0:
            inputs = u @ B.T
            x = np.zeros(self.order)
            for k in range(n_steps):
                X[k] = x
                x = A @ x + inputs[k]
        y = X @ C.T + u @ D.T
        return y[:, 0] if squeeze else y

    # -- stability, Gramians, balancing -------------------------------------------

    def _check_stable(self, what):
        if not self.is_stable:
            bound = "real part < 0" if self.analog else "modulus < 1"
            raise ValidationError(
                f"The {what} is only defined for a stable system (all poles with "
                f"{bound}); got poles {np.round(self.poles, 6)!r}",
                attr="A",
                obj=self,
            )

    def _gramian(self, M, Q, what):
        self._check_stable(what)
        if self.order == 0:
            return np.zeros((0, 0))
        if self.analog:
            W = scipy.linalg.solve_continuous_lyapunov(M, -Q)
        else:
            W = scipy.linalg.solve_discrete_lyapunov(M, Q)
        return (W + W.T) / 2  # symmetric by definition; remove rounding asymmetry

    def controllability_gramian(self):
        """The controllability Gramian ``W_c`` (stable systems only).

        Returns
        -------
        Wc : (order, order) ndarray

        Notes
        -----
        Analog: ``W_c = int_0^inf expm(A t) B B^T expm(A^T t) dt``, the solution of
        ``A W_c + W_c A^T + B B^T = 0``. Digital: ``W_c = sum_k A^k B B^T (A^T)^k``,
        the solution of ``A W_c A^T - W_c + B B^T = 0``. It is the state
        covariance under unit white noise input.

        Examples
        --------
        >>> LinearSystem(([1], [0.1, 1])).controllability_gramian()  # 1 / (2 * 10)
        array([[0.05]])
        """
        return self._gramian(self._A, self._B @ self._B.T, "controllability Gramian")

    def observability_gramian(self):
        """The observability Gramian ``W_o`` (stable systems only).

        Returns
        -------
        Wo : (order, order) ndarray

        Notes
        -----
        Analog: the solution of ``A^T W_o + W_o A + C^T C = 0``; digital: of
        ``A^T W_o A - W_o + C^T C = 0``. ``x0^T W_o x0`` is the output energy of
        the free response from ``x0``.

        Examples
        --------
        >>> LinearSystem(([1], [0.1, 1])).observability_gramian()  # 10**2 / (2 * 10)
        array([[5.]])
        """
        return self._gramian(self._A.T, self._C.T @ self._C, "observability Gramian")

    def _square_root_balancing(self):
        """``(U, sigma, Vt, Lc, Lo)`` with ``Wc = Lc Lc^T``, ``Wo = Lo Lo^T`` and
        ``Lo^T Lc = U diag(sigma) Vt``."""
        # The Gramians are solved for in the basis x_s = x / d, with d the powers
        # of 2 that balance the row and column norms of A (exact scalings). A
        # controllable canonical form of order 10 has cond(A) ~ 1e11 and its Hankel
        # singular values came out wrong by 2000 %; scaled, cond(A) ~ 300 and they
        # agree with the Legendre realization's to 2e-14 (order 20: 1e-10).
        self._check_stable("Hankel singular values")
        _, (d, _) = scipy.linalg.matrix_balance(self._A, permute=False, separate=True)
        scaled = LinearSystem(
            (
                self._A * d[None, :] / d[:, None],
                self._B / d[:, None],
                self._C * d,
                self._D,
            ),
            dt=self._dt,
        )
        # Wc = diag(d) Wc_s diag(d) and Wo = diag(d)^-1 Wo_s diag(d)^-1.
        Lc = d[:, None] * _psd_factor(scaled.controllability_gramian())
        Lo = _psd_factor(scaled.observability_gramian()) / d[:, None]
        U, sigma, Vt = np.linalg.svd(Lo.T @ Lc)
        return U, sigma, Vt, Lc, Lo

    def hankel_singular_values(self):
        """The Hankel singular values, in descending order (stable systems only).

        Returns
        -------
        sigma : (order,) ndarray

        Notes
        -----
        ``sigma_i = sqrt(lambda_i(W_c W_o))``: basis-independent, they measure how
        much each state of a balanced realization contributes to the
        input-output map. Computed as the singular values of ``L_o^T L_c``
        (``W_c = L_c L_c^T``, ``W_o = L_o L_o^T``), which avoids forming the
        product of the Gramians (Antoulas 2005).

        Examples
        --------
        >>> LinearSystem(([1], [0.1, 1])).hankel_singular_values()  # |H(0)| / 2
        array([0.5])
        """
        if self.order == 0:
            return np.zeros(0)
        return self._square_root_balancing()[1]

    def _balancing(self, order):
        """``(T, Tinv)``: ``x_balanced = T x`` (its first ``order`` states) and
        ``x ~= Tinv x_balanced``."""
        U, sigma, Vt, Lc, Lo = self._square_root_balancing()
        kept = sigma[:order]
        if not kept[-1] > self.order * np.finfo(float).eps * sigma[0]:
            raise ValidationError(
                f"Must keep only states with nonzero Hankel singular values; got "
                f"order={order}, but the Hankel singular values are "
                f"{np.array2string(sigma, precision=3)} (the realization is not "
                f"minimal: keep at most the nonzero ones)",
                attr="order",
                obj=self,
            )
        scale = 1 / np.sqrt(kept)
        T = scale[:, None] * (U[:, :order].T @ Lo.T)  # x_balanced = T x
        Tinv = (Lc @ Vt[:order].T) * scale[None, :]  # x ~= Tinv x_balanced
        # The SVD leaves each singular pair's sign arbitrary (and LAPACK-dependent):
        # make the largest entry of each row of the balanced B positive.
        TB = T @ self._B
        signs = np.sign(TB[np.arange(order), np.argmax(np.abs(TB), axis=1)])
        signs[signs == 0] = 1.0
        T *= signs[:, None]
        Tinv *= signs[None, :]
        return T, Tinv

    def _balanced_truncation(self, order):
        T, Tinv = self._balancing(order)
        return LinearSystem(
            (T @ self._A @ Tinv, T @ self._B, self._C @ Tinv, self._D), dt=self._dt
        )

    def balancing_transform(self):
        """The change of basis to the balanced realization (stable, minimal
        systems).

        Returns
        -------
        T : (order, order) ndarray
            ``x_balanced = T x``: ``self.transform(T)`` is `balanced`.
        Tinv : (order, order) ndarray
            Its inverse, ``x = Tinv x_balanced``.

        Examples
        --------
        >>> sys = LinearSystem(([1.0, 3.0], [1.0, 3.0, 2.0]))
        >>> T, Tinv = sys.balancing_transform()
        >>> bool(np.allclose(sys.transform(T).A, sys.balanced().A))
        True
        """
        if self.order == 0:
            return np.zeros((0, 0)), np.zeros((0, 0))
        return self._balancing(self.order)

    def balanced(self):
        """The balanced realization of this (stable, minimal) system.

        Returns
        -------
        LinearSystem
            The same transfer function, in the basis where both Gramians equal
            ``diag(hankel_singular_values())``.

        Notes
        -----
        The square-root algorithm (Antoulas 2005): with ``W_c = L_c L_c^T`` and
        ``W_o = L_o L_o^T`` (Cholesky factors) and the SVD
        ``L_o^T L_c = U Sigma V^T``, the balancing transformation is
        ``T = Sigma^(-1/2) U^T L_o^T`` with inverse ``L_c V Sigma^(-1/2)``; then
        ``T W_c T^T = T^-T W_o T^-1 = Sigma``. Each state's sign is chosen so that
        the largest entry of its row of ``B`` is positive.

        Examples
        --------
        >>> sys = LinearSystem(([1.0, 3.0], [1.0, 3.0, 2.0])).balanced()
        >>> Wc, Wo = sys.controllability_gramian(), sys.observability_gramian()
        >>> bool(np.allclose(Wc, Wo) and np.allclose(Wc, np.diag(np.diag(Wc))))
        True
        """
        if self.order == 0:
            return LinearSystem(self)
        return self._balanced_truncation(self.order)

    def balanced_truncation(self, order):
        """The reduced system keeping the ``order`` largest Hankel singular values.

        Parameters
        ----------
        order : int
            Number of states kept, ``1 <= order <= self.order``.

        Returns
        -------
        LinearSystem
            The first ``order`` states of the balanced realization.

        Notes
        -----
        The error is bounded by the discarded Hankel singular values (Antoulas 2005):

        .. math::

            \\|H - H_r\\|_\\infty \\le 2 \\sum_{i > r} \\sigma_i .

        Examples
        --------
        >>> from nengo_lmu.systems.delays import LegendreDelay
        >>> full = LegendreDelay(theta=1.0, order=12)
        >>> reduced = full.balanced_truncation(6)
        >>> reduced.order
        6
        """
        order = check_order(order, obj=self)
        if order > self.order:
            raise ValidationError(
                f"Must be at most the system's order ({self.order}); got {order}",
                attr="order",
                obj=self,
            )
        return self._balanced_truncation(order)

    # -- comparison ---------------------------------------------------------------

    def _comparison_frequencies(self, other):
        """A deterministic grid of angular frequencies spanning both systems'
        dynamics: three decades either side of their pole magnitudes (analog), or
        up to Nyquist (digital)."""
        n_points = max(64, 4 * (self.order + other.order) + 16)
        poles = np.concatenate([self.poles, other.poles])
        if self.analog:
            rates = np.abs(poles)
        else:
            # The analog rate that each nonzero digital pole corresponds to.
            poles = poles[poles != 0]
            rates = np.abs(np.log(poles)) / self._dt
        rates = rates[rates > 0]
        if rates.size == 0:
            rates = np.array([1.0] if self.analog else [1.0 / self._dt])
        low, high = rates.min() / 1e3, rates.max() * 1e3
        if self.analog:
            # An even number of log-spaced points never lands on the geometric
            # middle of the range, where a lone undamped pole would sit.
            return np.geomspace(low, high, n_points)
        nyquist = np.pi / self._dt
        low = min(low, 1e-3 * nyquist)
        # Stop short of Nyquist (exactly z = -1) and add a linear grid for the
        # band, which a log grid samples sparsely at its top.
        top = nyquist * (1 - 1e-3)
        return np.concatenate(
            [
                np.geomspace(low, top, n_points),
                np.linspace(0.5, n_points - 0.5, n_points) / n_points * top,
            ]
        )

    def transfer_equal(self, other, rtol=1e-8):
        """Whether ``other`` has the same transfer function, whatever its
        realization.

        Parameters
        ----------
        other : LinearSystem or anything `LinearSystem` accepts
        rtol : float
            Relative tolerance on the frequency responses (> 0).

        Returns
        -------
        bool
            False for systems of different sizes, an analog and a digital
            system, or digital systems with different ``dt``.

        Notes
        -----
        The frequency responses are compared on a deterministic grid: at least
        ``4 (n_1 + n_2) + 16`` log-spaced angular frequencies from ``1e-3`` times
        the smallest to ``1e3`` times the largest pole magnitude of either system
        (digital: pole rates ``|log z| / dt``, up to Nyquist, plus a linear grid
        of the band). The systems are equal when at every point

        .. math::

            |H_1 - H_2| \\le \\mathrm{rtol} \\max(|H_1|, |H_2|)
                          + 10^{-12} \\max_\\omega \\max(|H_1|, |H_2|),

        the last term ignoring rounding-level differences where the gain is
        tiny. ``(n_1 + n_2)`` points would suffice in exact arithmetic: two
        rational functions of degrees ``n_1`` and ``n_2`` that agree at more
        points than ``n_1 + n_2`` are equal.

        Examples
        --------
        >>> sys = LinearSystem(([1], [0.1, 1]))
        >>> sys.transfer_equal(nengo.Lowpass(0.1))
        True
        >>> sys.transfer_equal(nengo.Lowpass(0.1001))
        False
        """
        other = other if isinstance(other, LinearSystem) else LinearSystem(other)
        rtol = check_positive(rtol, "rtol", obj=self)
        if (self.size_in, self.size_out) != (other.size_in, other.size_out):
            return False
        if self.analog != other.analog:
            return False
        if not self.analog and not _same_dt(self._dt, other.dt):
            return False
        s_omega = self._comparison_frequencies(other)
        s = 1j * s_omega if self.analog else np.exp(1j * s_omega * self._dt)
        H1 = self._evaluate(s)
        H2 = other._evaluate(s)
        finite1, finite2 = np.isfinite(H1), np.isfinite(H2)
        if np.any(finite1 != finite2):
            return False
        both = finite1 & finite2
        H1, H2 = H1[both], H2[both]
        magnitude = np.maximum(np.abs(H1), np.abs(H2))
        peak = magnitude.max(initial=0.0)
        return bool(np.all(np.abs(H1 - H2) <= rtol * magnitude + 1e-12 * peak))

    # -- simulation in Nengo ------------------------------------------------------

    def process(self, **kwargs):
        """This system as a `nengo.Process`, to simulate it in a `nengo.Node`.

        Parameters
        ----------
        **kwargs
            Passed to `LinearSystemProcess` (``seed``, ...).

        Returns
        -------
        LinearSystemProcess

        Examples
        --------
        >>> sys = LinearSystem(([1], [0.1, 1]))
        >>> node = nengo.Node(sys.process(), add_to_container=False)
        >>> node.size_in, node.size_out
        (1, 1)
        """
        return LinearSystemProcess(self, **kwargs)


class LinearSystemParam(Parameter):
    """A parameter holding a `LinearSystem` (anything `LinearSystem` accepts is
    converted)."""

    def coerce(self, instance, value):
        value = super().coerce(instance, value)
        if isinstance(value, LinearSystem):
            return value
        try:
            return LinearSystem(value)
        except ValidationError as e:
            # Name this parameter; keep the matrix or coefficient at fault.
            msg = e.args[0] if e.attr == "sys" else f"{e.attr}: {e.args[0]}"
            raise ValidationError(msg, attr=self.name, obj=instance) from e


class LinearSystemProcess(nengo.Process):
    """A `LinearSystem` simulated exactly in a `nengo.Node`.

    ``nengo.Node(LinearSystemProcess(sys))`` (or ``nengo.Node(sys.process())``)
    has ``size_in = sys.size_in`` and ``size_out = sys.size_out`` by default.

    Parameters
    ----------
    system : LinearSystem
        The system (or anything `LinearSystem` accepts). An analog system is
        discretized with a zero-order hold at the simulator's ``dt``; a digital
        one must have the simulator's ``dt``.
    **kwargs
        Passed to `nengo.Process` (``seed``, ...). ``default_dt`` is the system's
        ``dt`` when digital.

    Notes
    -----
    Starting from ``x = 0``, step ``k`` with input ``u[k]`` outputs
    ``y[k] = C x[k] + D u[k]`` and then updates ``x[k + 1] = A x[k] + B u[k]``
    (as `LinearSystem.filter` and `scipy.signal.dlsim`). An input that is not
    finite raises a ValidationError at the step it arrives.

    Examples
    --------
    >>> sys = LinearSystem(([1], [0.1, 1]))
    >>> with nengo.Network() as net:
    ...     u = nengo.Node(1.0)
    ...     y = nengo.Node(LinearSystemProcess(sys))
    ...     _ = nengo.Connection(u, y, synapse=None)
    ...     probe = nengo.Probe(y)
    >>> with nengo.Simulator(net, progress_bar=False) as sim:
    ...     sim.run_steps(100)
    >>> bool(np.allclose(sim.data[probe][:, 0], sys.filter(np.ones(100), dt=sim.dt)))
    True
    """

    system = LinearSystemParam("system", readonly=True)

    def __init__(self, system, **kwargs):
        self.system = system
        if not self.system.analog:
            kwargs.setdefault("default_dt", self.system.dt)
        super().__init__(
            default_size_in=self.system.size_in,
            default_size_out=self.system.size_out,
            **kwargs,
        )

    def make_state(self, shape_in, shape_out, dt, dtype=None):
        """The system's state, zero (the system starts from rest)."""
        dtype = np.float64 if dtype is None else dtype
        return {"X": np.zeros(self.system.order, dtype=dtype)}

    def make_step(self, shape_in, shape_out, dt, rng, state):
        """The step function: the system's update at the simulator's ``dt``."""
        system = self.system
        if shape_in != (system.size_in,):
            raise ValidationError(
                f"Must be the system's size_in ({system.size_in}); got input shape "
                f"{shape_in} (give the Node size_in={system.size_in})",
                attr="size_in",
                obj=self,
            )
        if shape_out != (system.size_out,):
            raise ValidationError(
                f"Must be the system's size_out ({system.size_out}); got output "
                f"shape {shape_out} (give the Node size_out={system.size_out})",
                attr="size_out",
                obj=self,
            )
        if system.analog:
            system = system.discretize(dt)
        elif not _same_dt(dt, system.dt):
            raise ValidationError(
                f"Must equal the digital system's dt ({system.dt!r}); got the "
                f"simulator's dt={dt!r} (build the simulator with that dt, or "
                "give an analog system, which is discretized at any dt)",
                attr="dt",
                obj=self,
            )
        A, B, C, D = system.ss
        X = state["X"]

        def step_linear_system(t, u):
            if not np.all(np.isfinite(u)):
                raise ValidationError(
                    f"Input at t={t:.6g} is not finite: {u!r}",
                    attr="input",
                    obj=self,
                )
            y = C @ X + D @ u
            X[...] = A @ X + B @ u
            return y

        return step_linear_system
