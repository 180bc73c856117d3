"""A linear system's responses: impulse, frequency, simulation, comparison.

`_Responses` is the part of `nengo_lmu.systems.linear.LinearSystem` that
evaluates a system: its sampled impulse response, its frequency response, its
simulation on an array (`filter`, the package's one time convention, shared by
`nengo_lmu.systems.linear.LinearSystemProcess`) and the comparison of two
systems by transfer function.

Time convention
---------------
Every simulation in the package starts from rest and steps, for input ``u[k]``,

    y[k] = C x[k] + D u[k],        x[k + 1] = A x[k] + B u[k]

(`scipy.signal.dlsim`'s). A system whose output is its state after the update
(the LMU memory ``m[k]``, `nengo_lmu.systems.legendre.LegendreMemory`) is the
digital system with ``C = A`` and ``D = B``.
"""

import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_order, check_positive
from nengo_lmu.systems.statespace import _real_array, _same_dt, _StateSpace

# Batched solves of (s I - A) X = B are split into chunks of about this many
# matrix entries, so that a long frequency grid of a large system does not
# allocate gigabytes at once.
_SOLVE_CHUNK_ENTRIES = 2_000_000


class _Responses:
    """Responses and comparison of `LinearSystem` (see there)."""

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
        output at step ``k`` depends on inputs up to ``k - 1``. It is the
        package's one time convention: `LinearSystemProcess` steps the same way,
        and the LMU memory after the input of step ``k`` (`simulate_memory`,
        `LegendreMemory`) is the output of the system with ``C = A`` and
        ``D = B``. The state update is a Python loop over steps (about 1 us per
        step for a few states: 0.1 to 0.3 s for 1e5 steps); everything else is
        vectorized.

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
        other = other if isinstance(other, _StateSpace) else type(self)(other)
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
