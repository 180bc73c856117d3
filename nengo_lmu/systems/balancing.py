"""A linear system's Gramians, Hankel singular values and balanced realization.

`_Balancing` is the part of `nengo_lmu.systems.linear.LinearSystem` that needs a
stable system: controllability and observability Gramians, Hankel singular
values, the balancing transformation, the balanced realization and balanced
truncation (the square-root algorithm, Antoulas 2005).

References
----------
.. [1] Antoulas. "Approximation of Large-Scale Dynamical Systems." SIAM, 2005.
"""

import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_order


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


class _Balancing:
    """Gramians and balancing of `LinearSystem` (see there)."""

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
        scaled = type(self)(
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
        # A zero Hankel singular value is computed to about sqrt(eps) of the
        # largest (the Gramians' rounding, ~eps, under a square root): 4.3e-9 of
        # 0.5 for (s + 2) / ((s + 1)(s + 2)) with one OpenBLAS, 0 with another.
        # Below this threshold a state cannot be told from an unobservable or
        # uncontrollable one, and balancing it would divide by rounding noise.
        if not kept[-1] > self.order * np.sqrt(np.finfo(float).eps) * sigma[0]:
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
        return type(self)(
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
            return type(self)(self)
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
