"""NEF Principle 3: map a linear system onto a recurrent connection through a synapse.

Given ``dx/dt = A x + B u`` and a synapse ``h``, find ``(A_H, B_H)`` such that
feeding ``A_H x + B_H u`` through ``h`` back into ``x`` implements the system.

References
----------
.. [1] Eliasmith & Anderson. "Neural Engineering." MIT Press, 2003 (Principle 3).
.. [2] Voelker. "Dynamical systems in spiking neuromorphic hardware." PhD thesis,
   University of Waterloo, 2019, eq. 5.9 (the exact discrete lowpass mapping).
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_positive
from nengo_lmu.systems import discretize

MAPPINGS = ("discrete", "continuous")


def _synapse_denominator(synapse):
    """Denominator coefficients ``c_i`` (ascending powers of s) of ``1 / sum c_i s^i``.

    Raises ValidationError for synapses that are not strictly proper continuous
    LinearFilters with a constant numerator.
    """
    if not isinstance(synapse, nengo.LinearFilter):
        raise ValidationError(
            f"Principle 3 needs a nengo.LinearFilter synapse (e.g. nengo.Lowpass); "
            f"got {synapse!r}",
            attr="synapse",
        )
    if not getattr(synapse, "analog", True):
        raise ValidationError(
            f"Principle 3 here needs an analog (continuous) synapse; got a digital "
            f"filter {synapse!r}",
            attr="synapse",
        )
    num = np.trim_zeros(np.atleast_1d(np.asarray(synapse.num, dtype=float)), "f")
    den = np.trim_zeros(np.atleast_1d(np.asarray(synapse.den, dtype=float)), "f")
    if len(num) != 1 or len(den) < 2:
        raise ValidationError(
            f"The synapse must have a constant numerator and a denominator of "
            f"order >= 1 (num={synapse.num}, den={synapse.den}); synapses with zeros "
            f"or pass-through cannot be mapped",
            attr="synapse",
        )
    return den[::-1] / num[0]


def _finite(A_H, B_H, synapse):
    if not (np.all(np.isfinite(A_H)) and np.all(np.isfinite(B_H))):
        raise ValidationError(
            f"Principle 3 gave non-finite transforms for synapse {synapse!r} (is the "
            f"system itself finite?)",
            attr="synapse",
        )
    return A_H, B_H


def principle3(A, B, synapse, mapping="discrete", dt=0.001):
    """Recurrent and input transforms that implement ``(A, B)`` through ``synapse``.

    Parameters
    ----------
    A : (n, n) array_like
        Continuous state matrix.
    B : (n, k) array_like
        Continuous input matrix.
    synapse : nengo.LinearFilter
        The synapse on both the recurrent and the input connection. ``"discrete"``
        accepts any first-order LinearFilter with a constant numerator: a
        `nengo.Lowpass` (with any gain) or the integrator
        ``nengo.LinearFilter([1], [1, 0])``; ``"continuous"`` accepts any
        LinearFilter with a constant numerator.
    mapping : {"discrete", "continuous"}
        ``"discrete"``: exact at time step ``dt`` for Nengo's (zero-order-hold)
        simulation of the lowpass (Voelker 2019, eq. 5.9); ``"continuous"``: the
        textbook mapping, exact as ``dt -> 0``.
    dt : float
        Simulator time step (``"discrete"`` only).

    Returns
    -------
    A_H : (n, n) ndarray
        Transform of the recurrent connection.
    B_H : (n, k) ndarray
        Transform of the input connection.

    Notes
    -----
    Continuous, for ``h(s) = 1 / sum_i c_i s^i``:
    ``A_H = sum_i c_i A^i`` and ``B_H = (sum_{i>=1} c_i A^(i-1)) B``; for a lowpass
    with time constant ``tau`` this is ``A_H = tau A + I``, ``B_H = tau B``. For a
    first-order synapse the loop is exact; for higher orders (e.g. `nengo.Alpha`)
    this is nengolib's ``ss2sim``, which leaves out terms in the input's
    derivatives (``sum_{i>=2} c_i sum_{j=1}^{i-1} A^(i-1-j) B s^j``): the state
    dynamics (poles) and the steady state are exact, the response to fast inputs
    is not.

    Discrete, for ``h(s) = 1 / (c_0 + c_1 s)`` simulated by zero-order hold as
    ``h[z] = g / (z - a)``, with ``(Ad, Bd)`` the ZOH discretization of the system:
    ``A_H = (Ad - a I) / g`` and ``B_H = Bd / g``. For a lowpass (``c_0 = 1``,
    ``c_1 = tau``) ``a = exp(-dt / tau)`` and ``g = 1 - a``; for the integrator
    (``c_0 = 0``, ``c_1 = 1``) ``a = 1`` and ``g = dt``. Synapses of higher order
    have no exact discrete mapping of this form and raise ValidationError.

    Examples
    --------
    >>> import nengo
    >>> A_H, B_H = principle3([[-1.0]], [[1.0]], nengo.Lowpass(0.1), "continuous")
    >>> float(A_H[0, 0]), float(B_H[0, 0])
    (0.9, 0.1)
    """
    check_choice(mapping, MAPPINGS, "mapping")
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    if B.ndim == 1:
        B = B[:, None]
    c = _synapse_denominator(synapse)
    n = A.shape[0]
    if mapping == "continuous":
        A_H = np.zeros_like(A)
        B_H = np.zeros_like(B)
        power = np.eye(n)  # A^i
        for i, ci in enumerate(c):
            A_H += ci * power
            if i >= 1:
                B_H += ci * (np.linalg.matrix_power(A, i - 1) @ B)
            power = power @ A
        return _finite(A_H, B_H, synapse)

    dt = check_positive(dt, "dt")
    Ad, Bd = discretize(A, B, dt, method="zoh")
    return _discrete_transforms(Ad, Bd, c, synapse, dt)


def principle3_digital(Ad, Bd, synapse, dt):
    """Transforms that implement the digital system ``x[k+1] = Ad x[k] + Bd u[k]``.

    The discrete mapping of `principle3` for a system that is already digital at
    the simulator's time step ``dt`` (exact, for the same first-order synapses).

    Examples
    --------
    >>> import nengo
    >>> A_H, B_H = principle3_digital([[0.5]], [[1.0]], nengo.Lowpass(0.01), 0.001)
    >>> a = np.exp(-0.1)
    >>> bool(np.allclose(A_H, (0.5 - a) / (1 - a)))
    True
    """
    Ad = np.asarray(Ad, dtype=float)
    Bd = np.asarray(Bd, dtype=float)
    if Bd.ndim == 1:
        Bd = Bd[:, None]
    dt = check_positive(dt, "dt")
    return _discrete_transforms(Ad, Bd, _synapse_denominator(synapse), synapse, dt)


def _discrete_transforms(Ad, Bd, c, synapse, dt):
    if len(c) != 2:
        # With a synapse of order q > 1 the exact loop would need the input q - 1
        # steps ahead (the synapse's denominator, divided by (z - Ad), leaves a
        # polynomial in z acting on u): no pair of transforms is exact.
        raise ValidationError(
            f"mapping='discrete' is exact for first-order synapses only (a lowpass "
            f"or an integrator); got {synapse!r} of order {len(c) - 1}: use "
            f"mapping='continuous' (exact poles and steady state, approximate "
            f"response to fast inputs)",
            attr="synapse",
        )
    c0, c1 = c
    if c1 <= 0 or c0 < 0:
        raise ValidationError(
            f"The synapse 1 / ({c0:g} + {c1:g} s) is unstable or has a negative "
            f"time constant; Principle 3 needs a lowpass (tau > 0) or an integrator",
            attr="synapse",
        )
    # Nengo simulates the synapse by zero-order hold: h[z] = g / (z - a), with
    # a = exp(-dt c0 / c1), g = (1 - a) / c0 (lowpass) or dt / c1 (integrator,
    # c0 = 0). The loop x[k+1] = a x[k] + g (A_H x[k] + B_H u[k]) equals the
    # system's own ZOH step x[k+1] = Ad x[k] + Bd u[k] when A_H = (Ad - a I) / g
    # and B_H = Bd / g.
    a = np.exp(-dt * c0 / c1)
    g = -np.expm1(-dt * c0 / c1) / c0 if c0 > 0 else dt / c1
    A_H = (Ad - a * np.eye(Ad.shape[0])) / g
    B_H = Bd / g
    return _finite(A_H, B_H, synapse)
