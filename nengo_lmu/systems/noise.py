"""Where spike noise goes in a recurrent network, and where the neurons should go.

A linear system realized by NEF Principle 3 (the loop ``x <- h(A_H x + B_H u)``,
see `nengo_lmu.mapping`) does not represent its state exactly: the value decoded
from state ``i``'s neurons is ``x_i + eta_i``, with ``eta_i`` the decoding (spike)
noise, of variance about ``c / m_i`` per time step for ``m_i`` neurons (``c`` the
same for every state when each is scaled to about [-1, 1] and gets the same kind
of neurons). That noise reaches a readout ``y = R x_decoded`` twice: directly
(``R eta``) and through the recurrence, where ``A_H eta`` is filtered by the
synapse and circulates in the loop. Both are linear, so with independent,
white ``eta_i`` the readout's noise variance is

.. math::

    \\sigma_y^2 = \\sum_i g_i \\, c / m_i

where ``g_i`` is the squared H2 norm of the discrete map from a unit white noise
on decoded state ``i`` to the readout (`state_noise_gains`, from the closed
loop's observability Gramian: nothing is simulated or fitted). Minimizing it
for ``sum_i m_i = m`` (Lagrange: ``g_i c / m_i^2`` equal for all ``i``) gives
``m_i`` proportional to ``sqrt(g_i)`` (`allocate_neurons`), and the variance
``c (sum_i sqrt(g_i))^2 / m`` against ``c d sum_i g_i / m`` for ``m / d`` each.

Pure NumPy / SciPy, like the rest of `nengo_lmu.systems`.
"""

import nengo
import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_positive
from nengo_lmu.systems.linear import LinearSystem


def _digital_synapse(synapse, dt, attr):
    """``(A, B, C)`` of ``synapse`` simulated at ``dt`` (zero-order hold, as Nengo
    does), strictly proper; ``None`` -> no filter."""
    if synapse is None:
        return None
    if isinstance(synapse, (int, float)) and not isinstance(synapse, bool):
        synapse = nengo.Lowpass(check_positive(synapse, attr))
    if not isinstance(synapse, nengo.LinearFilter):
        raise ValidationError(
            f"Must be a nengo.LinearFilter, a lowpass time constant or None; got "
            f"{synapse!r}",
            attr=attr,
        )
    system = LinearSystem.from_synapse(synapse, dt=None if synapse.analog else dt)
    if system.analog:
        system = system.discretize(dt)
    if np.any(system.D != 0) or system.order == 0:
        raise ValidationError(
            f"{synapse!r} has a pass-through term: a recurrent loop through it "
            f"would be algebraic",
            attr=attr,
        )
    return system.A, system.B, system.C


def closed_loop(recurrent_transform, synapse, dt):
    """The loop a Principle 3 network runs, with the decoded state's noise as input.

    Each state's decoded value ``x_i + eta_i`` goes through ``A_H`` and the
    synapse (simulated at ``dt`` by zero-order hold) back into the state.

    Parameters
    ----------
    recurrent_transform : (d, d) array_like
        ``A_H``.
    synapse : nengo.LinearFilter or float
        The recurrent synapse (a float: a lowpass time constant).
    dt : float

    Returns
    -------
    F : (d q, d q) ndarray
        The loop's state matrix (``q`` the synapse's order; ``a I + g A_H`` for a
        lowpass ``g / (z - a)``).
    G : (d q, d) ndarray
        Input matrix of the noise ``eta``.
    H : (d, d q) ndarray
        The state ``x`` from the loop's state.
    """
    A_H = np.atleast_2d(np.asarray(recurrent_transform, dtype=float))
    d = A_H.shape[0]
    dt = check_positive(dt, "dt")
    As, Bs, Cs = _digital_synapse(synapse, dt, "synapse")
    eye = np.eye(d)
    H = np.kron(eye, Cs)  # x = (I kron Cs) s, one synapse state per dimension
    G = np.kron(eye, Bs) @ A_H
    F = np.kron(eye, As) + G @ H
    return F, G, H


def state_noise_gains(recurrent_transform, synapse, dt, readout, readout_synapse=None):
    """Squared H2 norms from white noise on each decoded state to a readout.

    ``g_i = sum_k ||h_i[k]||^2``, where ``h_i`` is the response of
    ``readout @ x_decoded`` (then filtered by ``readout_synapse``, if given) to a
    unit impulse of noise on decoded state ``i``: directly and through the
    recurrence (`closed_loop`). For noise of variance ``v_i`` per step on each
    state, independent and white, the readout's noise variance (summed over its
    rows) is ``sum_i g_i v_i``.

    Parameters
    ----------
    recurrent_transform : (d, d) array_like
        ``A_H`` of the network (`nengo_lmu.mapping.principle3`).
    synapse : nengo.LinearFilter or float
        Its recurrent synapse.
    dt : float
        The simulator's time step.
    readout : (p, d) array_like
        The readout of the (scaled, realized) state whose noise matters; a 1-D
        array is one row.
    readout_synapse : nengo.LinearFilter or float, optional
        A filter applied to the readout (a probe's synapse); None: unfiltered.

    Returns
    -------
    gains : (d,) ndarray

    Notes
    -----
    With the loop ``s[k+1] = F s[k] + G eta[k]``, ``y[k] = R H s[k] + R eta[k]``
    (augmented by the readout filter's state when there is one), ``g_i =
    G_i^T Q G_i + ||R_i||^2`` for ``Q`` the observability Gramian,
    ``F^T Q F - Q + H^T R^T R H = 0``: one discrete Lyapunov solve.

    Examples
    --------
    A lowpass ``tau`` holding a scalar (``A_H = 1``): the noise is fed back
    undamped, so the loop integrates it and the gain is unbounded. A leaky one
    (``A_H = 0.5``) is not:

    >>> g = state_noise_gains([[0.5]], 0.1, 0.001, [[1.0]])
    >>> bool(1.0 < g[0] < 2.0)
    True
    """
    F, G, H = closed_loop(recurrent_transform, synapse, dt)
    d = G.shape[1]
    R = np.atleast_2d(np.asarray(readout, dtype=float))
    if R.shape[1] != d:
        raise ValidationError(
            f"Must have {d} columns (one per state); got shape {R.shape}",
            attr="readout",
        )
    # the readout y = R H s + R eta, as a system with input eta
    A_y, B_y, C_y, D_y = F, G, R @ H, R
    filt = _digital_synapse(readout_synapse, dt, "readout_synapse")
    if filt is not None:
        # each readout row through its own copy of the filter: r[k+1] = Af r +
        # Bf y[k], output Cf r
        Af, Bf, Cf = filt
        p, n, q = R.shape[0], F.shape[0], Af.shape[0]
        eye = np.eye(p)
        A_y = np.block(
            [[F, np.zeros((n, p * q))], [np.kron(eye, Bf) @ C_y, np.kron(eye, Af)]]
        )
        B_y = np.vstack([G, np.kron(eye, Bf) @ R])
        C_y = np.hstack([np.zeros((p, n)), np.kron(eye, Cf)])
        D_y = np.zeros_like(R)
    radius = np.max(np.abs(np.linalg.eigvals(A_y)))
    if radius >= 1:
        raise ValidationError(
            f"the closed loop is not stable (spectral radius {radius:.6g} >= 1): "
            f"noise on its states grows without bound",
            attr="recurrent_transform",
        )
    Q = scipy.linalg.solve_discrete_lyapunov(A_y.T, C_y.T @ C_y)
    gains = np.einsum("ki,kl,li->i", B_y, Q, B_y) + np.sum(D_y**2, axis=0)
    return np.maximum(gains, 0.0)


def allocate_neurons(weights, n_neurons, minimum=1):
    """Split ``n_neurons`` into integer counts proportional to ``weights``.

    Each count is at least ``minimum``: states whose share would be smaller get
    ``minimum`` and the rest is shared again among the others; the integer
    parts are then completed by the largest remainders (ties to the lower
    index).

    Parameters
    ----------
    weights : (d,) array_like
        Non-negative (e.g. ``sqrt(g_i)`` of `state_noise_gains`).
    n_neurons : int
        Total, at least ``d * minimum``.
    minimum : int

    Returns
    -------
    counts : (d,) int ndarray
        Summing to ``n_neurons``.

    Examples
    --------
    >>> allocate_neurons([1.0, 3.0], 100)
    array([25, 75])
    >>> allocate_neurons([0.0, 1.0, 1.0], 10, minimum=2)
    array([2, 4, 4])
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValidationError(
            f"Must be a non-empty 1-D array of finite, non-negative numbers; got "
            f"{weights!r}",
            attr="weights",
        )
    n_neurons, minimum, d = int(n_neurons), int(minimum), w.size
    if n_neurons < d * minimum:
        raise ValidationError(
            f"{n_neurons} neurons cannot give {d} states {minimum} each",
            attr="n_neurons",
        )
    if not np.any(w > 0):
        w = np.ones(d)
    floor = np.zeros(d, dtype=bool)  # states held at the minimum
    while True:
        free = n_neurons - minimum * np.sum(floor)
        share = np.where(floor, 0.0, w)
        exact = np.where(floor, minimum, free * share / np.sum(share))
        low = ~floor & (exact < minimum)
        if not np.any(low):
            break
        floor |= low
    counts = np.floor(exact).astype(int)
    counts = np.maximum(counts, minimum)
    left = n_neurons - int(np.sum(counts))
    if left > 0:
        # largest remainders first; a stable sort keeps ties in index order
        order = np.argsort(-(exact - np.floor(exact)), kind="stable")
        counts[order[:left]] += 1
    return counts
