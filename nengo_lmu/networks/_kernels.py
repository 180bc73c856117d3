"""The inner loops of sub-population ensembles, compiled with numba when present.

Two loops, each in a numba version (parallel over chunks of neurons, both cores)
and a numpy version doing the same arithmetic (used when numba is not installed,
or ``NENGO_LMU_NUMBA=0``):

- `group_rates`: the firing rates of groups of 1-D neurons at shared evaluation
  points (the sub-population solver's activity matrices);
- `fused_step`: one time step of a sub-population ensemble: input current, rate,
  spike generation and the decoded output, in one pass over the neurons.

Spike generation supports what Nengo's neuron types do, with the same arithmetic:
rates (``"rate"``), Poisson spikes (``"poisson"``, exact inversion sampling from a
counter-based generator, so that a step's draws depend only on the seed, the step
and the neuron, not on threads or chunking), regular spikes (``"regular"``,
`nengo.RegularSpiking` and `nengo.SpikingRectifiedLinear`) and leaky
integrate-and-fire (``"lif"``, `nengo.LIF`).
"""

import math
import os

import numpy as np

try:  # pragma: no cover - depends on the environment
    if os.environ.get("NENGO_LMU_NUMBA", "1") == "0":
        raise ImportError("disabled by NENGO_LMU_NUMBA=0")
    import numba
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    numba = None
    HAVE_NUMBA = False

# rate kinds
LIF_RATE, RELU_RATE = 0, 1
# spike kinds
RATE, POISSON, REGULAR, LIF = 0, 1, 2, 3
SPIKE_KINDS = {"rate": RATE, "poisson": POISSON, "regular": REGULAR, "lif": LIF}

# Neurons per chunk of the parallel loop. Fixed, so that the decoded sums (one
# partial sum per chunk, added in chunk order) do not depend on the thread count.
CHUNK = 8192

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_M53 = 2.0**-53


def _mix_np(z):
    """SplitMix64's finalizer on uint64 (scalars or arrays; wraps modulo 2^64)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


_MASK = 2**64 - 1


def _mix_int(z):
    """`_mix_np` on a Python int (fast for one value)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def step_key(seed, step):
    """The generator's key for one time step: a function of (seed, step) only."""
    z = _mix_int((int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & _MASK)
    return np.uint64(_mix_int((z + int(step) * 0x9E3779B97F4A7C15) & _MASK))


def uniforms_np(key, start, stop):
    """Uniform [0, 1) draws of neurons ``start`` to ``stop`` for a step's ``key``:
    SplitMix64's outputs ``key + (i + 1) * golden`` (53 bits each)."""
    i = np.arange(start + 1, stop + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = _mix_np(np.uint64(key) + i * _GOLDEN)
    return (z >> _S11).astype(np.float64) * _TWO_M53


def poisson_inverse_np(lam, u):
    """Poisson(lam) samples by inversion of the uniform draws ``u``: the least
    ``k`` with ``u < P(X <= k)`` (exact up to rounding; ``lam`` below ~700)."""
    p = np.exp(-lam)
    cdf = p.copy()
    k = np.zeros(lam.shape)
    more = u >= cdf
    while np.any(more):
        idx = np.flatnonzero(more)
        k[idx] += 1
        p[idx] *= lam[idx] / k[idx]
        cdf[idx] += p[idx]
        more[idx] = (u[idx] >= cdf[idx]) & (p[idx] > 0)
    return k


def rates_np(J, rate_kind, tau_rc, tau_ref, amplitude):
    """Rates of LIFRate (``rate_kind`` 0) or RectifiedLinear (1) at currents J,
    with Nengo's arithmetic."""
    out = np.zeros_like(J)
    if rate_kind == LIF_RATE:
        j = J - 1
        on = j > 0
        out[on] = amplitude / (tau_ref + tau_rc * np.log1p(1.0 / j[on]))
    else:
        np.maximum(J, 0.0, out=out)
        out *= amplitude
    return out


def group_rates_np(t, enc_gain, bias, rate_kind, tau_rc, tau_ref, amplitude):
    """Rates of groups of neurons at points ``t``.

    ``enc_gain`` and ``bias`` are (G, k) (encoder sign times gain, and bias, of G
    groups of k neurons); returns (G, len(t), k) rates at ``x = t``."""
    J = t[None, :, None] * enc_gain[:, None, :] + bias[:, None, :]
    return rates_np(J, rate_kind, tau_rc, tau_ref, amplitude)


def fused_step_np(state, x, base, step):
    """One step of a sub-population ensemble, in numpy (see `fused_step`)."""
    s = state
    J = base + s.enc_gain * x[s.dims]
    rate = rates_np(J, s.rate_kind, s.tau_rc, s.tau_ref, s.rate_amplitude)
    out = s.out
    if s.spike_kind == RATE:
        out[:] = rate
    elif s.spike_kind == POISSON:
        u = uniforms_np(step_key(s.seed, step), 0, J.shape[0])
        out[:] = (s.spike_amplitude / s.dt) * poisson_inverse_np(rate * s.dt, u)
    elif s.spike_kind == REGULAR:
        v = s.voltage
        v += s.dt * rate
        n_spikes = np.floor(v)
        out[:] = (s.spike_amplitude / s.dt) * n_spikes
        v -= n_spikes
    else:  # LIF, as nengo.LIF.step
        v, ref, dt = s.voltage, s.refractory_time, s.dt
        ref -= dt
        delta_t = np.clip(dt - ref, 0, dt)
        v -= (J - v) * np.expm1(-delta_t / s.tau_rc)
        spiked = v > 1
        out[:] = spiked * (s.spike_amplitude / dt)
        t_spike = dt + s.tau_rc * np.log1p(-(v[spiked] - 1) / (J[spiked] - 1))
        v[v < s.min_voltage] = s.min_voltage
        v[spiked] = 0
        ref[spiked] = s.tau_ref + t_spike
    if s.decoders is None:
        return None
    return np.bincount(s.dims, weights=s.decoders * out, minlength=s.size_out)


if HAVE_NUMBA:  # pragma: no branch

    @njit(inline="always")
    def _mix(z):
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)

    @njit(inline="always")
    def _rate(J, rate_kind, tau_rc, tau_ref, amplitude):
        if rate_kind == LIF_RATE:
            j = J - 1.0
            if j > 0.0:
                return amplitude / (tau_ref + tau_rc * math.log1p(1.0 / j))
            return 0.0
        if J > 0.0:
            return amplitude * J
        return 0.0

    @njit(inline="always")
    def _poisson(lam, u):
        p = math.exp(-lam)
        cdf = p
        k = 0.0
        while u >= cdf and p > 0.0:
            k += 1.0
            p *= lam / k
            cdf += p
        return k

    @njit(parallel=True, cache=True)
    def _group_rates_nb(t, enc_gain, bias, rate_kind, tau_rc, tau_ref, amplitude):
        G, k = enc_gain.shape
        P = t.shape[0]
        out = np.empty((G, P, k))
        for g in prange(G):
            for p in range(P):
                for i in range(k):
                    J = t[p] * enc_gain[g, i] + bias[g, i]
                    out[g, p, i] = _rate(J, rate_kind, tau_rc, tau_ref, amplitude)
        return out

    @njit(parallel=True, cache=True)
    def _fused_step_nb(
        x,
        base,
        enc_gain,
        chunk_lo,
        chunk_hi,
        chunk_dim,
        decoders,
        out,
        voltage,
        refractory_time,
        partial,
        key,
        rate_kind,
        spike_kind,
        tau_rc,
        tau_ref,
        rate_amplitude,
        spike_amplitude,
        min_voltage,
        dt,
        decode,
    ):
        spike_scale = spike_amplitude / dt
        for c in prange(chunk_lo.shape[0]):
            xv = x[chunk_dim[c]]
            acc = 0.0
            for i in range(chunk_lo[c], chunk_hi[c]):
                J = base[i] + enc_gain[i] * xv
                if spike_kind == LIF:
                    r = refractory_time[i] - dt
                    delta_t = dt - r
                    if delta_t < 0.0:
                        delta_t = 0.0
                    elif delta_t > dt:
                        delta_t = dt
                    v = voltage[i]
                    v -= (J - v) * math.expm1(-delta_t / tau_rc)
                    o = 0.0
                    if v > 1.0:
                        o = spike_scale
                        t_spike = dt + tau_rc * math.log1p(-(v - 1.0) / (J - 1.0))
                        v = 0.0
                        r = tau_ref + t_spike
                    elif v < min_voltage:
                        v = min_voltage
                    voltage[i] = v
                    refractory_time[i] = r
                else:
                    rate = _rate(J, rate_kind, tau_rc, tau_ref, rate_amplitude)
                    if spike_kind == RATE:
                        o = rate
                    elif spike_kind == POISSON:
                        o = 0.0
                        if rate > 0.0:
                            z = _mix(key + np.uint64(i + 1) * _GOLDEN)
                            u = np.float64(z >> _S11) * _TWO_M53
                            o = spike_scale * _poisson(rate * dt, u)
                    else:  # REGULAR
                        v = voltage[i] + dt * rate
                        n_spikes = math.floor(v)
                        o = spike_scale * n_spikes
                        voltage[i] = v - n_spikes
                out[i] = o
                if decode:
                    acc += decoders[i] * o
            partial[c] = acc


def group_rates(t, enc_gain, bias, rate_kind, tau_rc, tau_ref, amplitude):
    """`group_rates_np`, compiled when numba is present."""
    if HAVE_NUMBA:
        return _group_rates_nb(
            np.ascontiguousarray(t, dtype=np.float64),
            np.ascontiguousarray(enc_gain, dtype=np.float64),
            np.ascontiguousarray(bias, dtype=np.float64),
            rate_kind,
            float(tau_rc),
            float(tau_ref),
            float(amplitude),
        )
    return group_rates_np(t, enc_gain, bias, rate_kind, tau_rc, tau_ref, amplitude)


def fused_step(state, x, base, step):
    """One step of a sub-population ensemble.

    Parameters
    ----------
    state : FusedState
        The ensemble's constants and per-neuron state (see
        `nengo_lmu.networks.subpopulations`); ``state.out`` receives the neurons'
        output (rates or spikes, Nengo's scaling: a spike is ``amplitude / dt``).
    x : (d,) array
        The ensemble's decoded input this step.
    base : (n,) array
        The input current before encoding (the bias, plus any input connected to
        the neurons directly).
    step : int
        The simulator's step (with ``state.seed``, it keys the Poisson draws).

    Returns
    -------
    decoded : (d,) array or None
        ``sum_i decoders_i * out_i`` per dimension, or None without decoders.
    """
    s = state
    if not (HAVE_NUMBA and s.use_numba):
        return fused_step_np(s, x, base, step)
    decode = s.decoders is not None
    _fused_step_nb(
        x,
        base,
        s.enc_gain,
        s.chunk_lo,
        s.chunk_hi,
        s.chunk_dim,
        s.decoders if decode else s.enc_gain,
        s.out,
        s.voltage,
        s.refractory_time,
        s.partial,
        step_key(s.seed, step) if s.spike_kind == POISSON else np.uint64(0),
        s.rate_kind,
        s.spike_kind,
        s.tau_rc,
        s.tau_ref,
        s.rate_amplitude,
        s.spike_amplitude,
        s.min_voltage,
        s.dt,
        decode,
    )
    if not decode:
        return None
    return np.add.reduceat(s.partial, s.dim_first_chunk)
