"""Pure delays ``exp(-theta s)``, approximated by finite-order linear systems.

A delay of ``theta`` seconds has the irrational transfer function
``exp(-theta s)``; no finite state space realizes it. Its ``[p/q]`` Pade
approximants are the rational functions of degrees ``p`` and ``q`` that match its
Taylor series in ``s`` to order ``p + q``. The LMU memory, read out at the end of
its window, is one realization of the ``[order - 1/order]`` approximant [1]_ [2]_:
`LegendreDelay` (whose ``(A, B)`` are `lmu_matrices`) and `PadeDelay` (whose
matrices are `pade_delay_matrices`) have the same transfer function in different
bases.

References
----------
.. [1] Voelker, Kajic, Eliasmith. "Legendre Memory Units: Continuous-time
   representation in recurrent neural networks." NeurIPS 2019.
.. [2] Voelker. "Dynamical systems in spiking neuromorphic hardware." PhD thesis,
   University of Waterloo, 2019.
"""

import math
import numbers
from fractions import Fraction

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_order, check_positive
from nengo_lmu.systems.linear import LinearSystem


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


def LegendreDelay(theta, order):
    """The LMU memory read out at ``u(t - theta)``: a delay of ``theta`` seconds.

    Parameters
    ----------
    theta : float
        Delay (the LMU's window length) in seconds, finite and > 0.
    order : int
        Number of states (the memory's dimension ``d``), >= 1.

    Returns
    -------
    LinearSystem
        Analog, ``(A, B)`` from `lmu_matrices`, ``C = [1, 1, ..., 1]`` (every
        shifted Legendre polynomial is 1 at the end of the window) and ``D = 0``.

    Notes
    -----
    Its transfer function is the ``[order - 1/order]`` Pade approximant of the
    delay (Voelker et al. 2019, eq. 2):

    .. math::

        C (sI - A)^{-1} B = [\\,d - 1 / d\\,]_{e^{-\\theta s}}(s),

    realized in the Legendre basis, whose states are the coefficients of the
    window ``u(t - r theta)``, ``0 <= r <= 1``, in shifted Legendre polynomials.
    See `PadeDelay` for the same transfer function in controllable canonical
    form.

    Examples
    --------
    >>> sys = LegendreDelay(theta=0.5, order=6)
    >>> sys.order, sys.size_in, sys.size_out
    (6, 1, 1)
    >>> sys.transfer_equal(PadeDelay(theta=0.5, order=6))
    True
    """
    theta = check_positive(theta, "theta")
    order = check_order(order)
    A, B = lmu_matrices(order, theta)
    return LinearSystem((A, B, np.ones((1, order)), np.zeros((1, 1))))


def _pade_coefficients(p, q, sign):
    """Coefficients ``c_i = (p+q-i)! p! / ((p+q)! i! (p-i)!) sign^i``, i = 0..p, of
    the Pade approximant of ``exp(-x)`` (numerator: ``sign = -1``, degree ``p``;
    the denominator is the same with ``p`` and ``q`` swapped and ``sign = +1``),
    as exact fractions."""
    return [
        Fraction(
            math.factorial(p + q - i) * math.factorial(p),
            math.factorial(p + q) * math.factorial(i) * math.factorial(p - i),
        )
        * sign**i
        for i in range(p + 1)
    ]


def PadeDelay(theta, order, p=None):
    """The ``[p/order]`` Pade approximant of a delay of ``theta`` seconds.

    Parameters
    ----------
    theta : float
        Delay in seconds, finite and > 0.
    order : int
        Degree ``q`` of the denominator: the number of states, >= 1.
    p : int, optional
        Degree of the numerator, ``0 <= p <= order``; default ``order - 1`` (the
        transfer function of `LegendreDelay`). ``p = order`` gives an all-pass
        filter (``|H(j omega)| = 1``), with ``D = (-1)^order``.

    Returns
    -------
    LinearSystem
        Analog, in controllable canonical form (`LinearSystem.from_tf`).

    Notes
    -----
    With ``x = theta s``,

    .. math::

        e^{-x} \\approx \\frac{\\sum_{i=0}^{p} b_i x^i}{\\sum_{i=0}^{q} a_i x^i},
        \\quad
        b_i = \\frac{(p+q-i)!\\,p!}{(p+q)!\\,i!\\,(p-i)!} (-1)^i,
        \\quad
        a_i = \\frac{(p+q-i)!\\,q!}{(p+q)!\\,i!\\,(q-i)!},

    which matches the Taylor series of ``e^{-x}`` up to ``x^(p+q)`` (Voelker 2019). The
    coefficients are computed as exact fractions, and the denominator is made
    monic before rounding to floats. The canonical form's coefficients grow
    like ``theta^-order`` times factorials: for high orders prefer
    `LegendreDelay` (the same transfer function) or `LinearSystem.balanced`.

    Examples
    --------
    >>> sys = PadeDelay(theta=1.0, order=1, p=0)  # 1 / (s + 1)
    >>> sys.tf
    (array([0., 1.]), array([1., 1.]))
    >>> num, den = PadeDelay(theta=1.0, order=2).tf  # (6 - 2 s) / (s^2 + 4 s + 6)
    >>> num, den
    (array([ 0., -2.,  6.]), array([1., 4., 6.]))
    """
    theta = check_positive(theta, "theta")
    q = check_order(order)
    if p is None:
        p = q - 1
    if isinstance(p, bool) or not isinstance(p, numbers.Integral) or not 0 <= p <= q:
        raise ValidationError(
            f"Must be an integer with 0 <= p <= order ({q}); got {p!r}", attr="p"
        )
    p = int(p)
    b = _pade_coefficients(p, q, -1)  # ascending powers of x = theta s
    a = _pade_coefficients(q, p, 1)
    # Monic in s: divide by a_q theta^q, so coefficient i of s^i is
    # (c_i / a_q) theta^(i - q), exact up to the last rounding.
    num = [float(b_i / a[q]) * theta ** (i - q) for i, b_i in enumerate(b)]
    den = [float(a_i / a[q]) * theta ** (i - q) for i, a_i in enumerate(a)]
    return LinearSystem.from_tf(num[::-1], den[::-1])


def pade_delay_matrices(order, theta):
    """The ``[order-1/order]`` Pade approximant of ``exp(-theta s)`` in state space.

    The LMU is a realization of this same transfer function (Voelker et al.
    2019); this one is in controllable canonical form, kept for comparison: the
    matrices of `PadeDelay` ``(theta, order)``.

    Returns
    -------
    A : (order, order), B : (order, 1), C : (1, order), D : (1, 1) ndarrays
    """
    return tuple(np.array(M) for M in PadeDelay(theta, order).ss)
