"""A linear system's state space: construction, validation and conversions.

`_StateSpace` is the part of `nengo_lmu.systems.linear.LinearSystem` that builds
and converts a realization ``(A, B, C, D)``: from a state space, a transfer
function, zeros/poles/gain or a `nengo.LinearFilter`; its transfer function,
zeros and poles; its discretization (`discretize_matrices`, the package's one
zero-order hold and Euler step); and a change of basis. Responses live in
`nengo_lmu.systems.responses`, Gramians and balancing in
`nengo_lmu.systems.balancing`.
"""

import math
import numbers

import nengo
import numpy as np
import scipy.linalg
import scipy.signal
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_positive

_DISCRETIZE_METHODS = ("zoh", "euler", "bilinear")

# Two digital systems, or a digital system and a simulator, share a time step
# when their dts agree to this relative tolerance (dts typed as 0.001 and 1e-3,
# or computed as 1 / 1000, differ by rounding only).
_DT_RTOL = 1e-9

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


def discretize_matrices(A, B, dt, method="zoh"):
    """``(Ad, Bd)`` of ``dx/dt = A x + B u`` at time step ``dt``, unchecked.

    ``"zoh"``: the exponential of the augmented matrix ``[[A, B], [0, 0]] dt``
    (Van Loan; the computation of `scipy.signal.cont2discrete`, to the bit).
    ``"euler"``: ``Ad = I + dt A``, ``Bd = dt B``. The one discretization of the
    package, used by `LinearSystem.discretize` and by
    `nengo_lmu.systems.legendre.discretize` (which, unlike a `LinearSystem`,
    lets a non-finite matrix through, for its caller to report).
    """
    n, k = B.shape
    if method == "euler":
        return np.eye(n) + dt * A, dt * B
    M = np.zeros((n + k, n + k))
    M[:n, :n] = A * dt
    M[:n, n:] = B * dt
    E = scipy.linalg.expm(M)
    return E[:n, :n], E[:n, n:]


class _StateSpace:
    """Construction, validation and conversions of `LinearSystem` (see there).

    The class is assembled in `nengo_lmu.systems.linear`, which this module
    cannot import: methods that return a system build ``type(self)``.
    """

    def __init__(self, sys, dt=None):
        dt = _check_dt(dt)
        if isinstance(sys, _StateSpace):
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
        ``C_d = C``, ``D_d = D``. Euler: ``A_d = I + dt A``, ``B_d = dt B``. ZOH and
        Euler are `discretize_matrices`; bilinear is `scipy.signal.cont2discrete`.

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
        elif method == "bilinear":
            A, B, C, D, _ = scipy.signal.cont2discrete((A, B, C, D), dt, method=method)
        else:
            A, B = discretize_matrices(A, B, dt, method)
        return type(self)((A, B, C, D), dt=dt)

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
            return type(self)(self)
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
        return type(self)((A, T @ self._B, C, self._D), dt=self._dt)
