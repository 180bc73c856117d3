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

# From this many neurons on, the step runs on all cores (below, starting the
# threads costs more than it saves).
PARALLEL_MIN_NEURONS = 200_000

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
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic

    # Compiler options of every kernel: IEEE division semantics without Python's
    # ZeroDivisionError checks (which would keep loops from vectorizing).
    _OPTIONS = {"cache": True, "error_model": "numpy"}

    @intrinsic
    def _as_int64(typingctx, x):
        sig = types.int64(types.float64)

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.IntType(64))

        return sig, codegen

    @intrinsic
    def _as_float64(typingctx, i):
        sig = types.float64(types.int64)

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.DoubleType())

        return sig, codegen

    _LN2_HI = 6.93147180369123816490e-01
    _LN2_LO = 1.90821492927058770002e-10
    _SQRT2 = 1.4142135623730951

    @njit(inline="always", error_model="numpy")
    def _log(w):
        """Natural log of a positive, finite, normal ``w`` in plain arithmetic
        (so that loops calling it vectorize): ``w = m 2^e``, ``m`` in
        [sqrt(1/2), sqrt(2)), ``log m = 2 atanh(f)``, ``f = (m - 1) / (m + 1)``, by
        its series to ``f^21`` (|f| < 0.172: error below 1e-17 of the series,
        about 1 ulp in all)."""
        bits = _as_int64(w)
        e = (bits >> 52) - 1023
        m = _as_float64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
        big = m > _SQRT2
        m = m * 0.5 if big else m
        e = e + 1 if big else e
        f = (m - 1.0) / (m + 1.0)
        s = f * f
        p = 1.0 / 21.0
        p = p * s + 1.0 / 19.0
        p = p * s + 1.0 / 17.0
        p = p * s + 1.0 / 15.0
        p = p * s + 1.0 / 13.0
        p = p * s + 1.0 / 11.0
        p = p * s + 1.0 / 9.0
        p = p * s + 1.0 / 7.0
        p = p * s + 1.0 / 5.0
        p = p * s + 1.0 / 3.0
        p = p * s + 1.0
        ef = np.float64(e)
        return ef * _LN2_HI + (ef * _LN2_LO + 2.0 * f * p)

    @njit(inline="always", error_model="numpy")
    def _log1p(y):
        """log(1 + y) for y > 0, accurate for small y too (Goldberg's
        correction: log(w) * y / (w - 1), w = 1 + y rounded)."""
        w = 1.0 + y
        d = w - 1.0
        return _log(w) * (y / d) if d != 0.0 else y

    @njit(inline="always", error_model="numpy")
    def _exp_neg(lam):
        """exp(-lam) for 0 <= lam <= 1 in plain arithmetic: exp(-lam / 8) by its
        Taylor series to the 12th power (error below 1e-17), squared 3 times."""
        x = -0.125 * lam
        # Horner's rule with the reciprocals 1/k as constants (no divisions)
        p = 1.0 + x * (1.0 / 12.0)
        p = 1.0 + x * p * (1.0 / 11.0)
        p = 1.0 + x * p * (1.0 / 10.0)
        p = 1.0 + x * p * (1.0 / 9.0)
        p = 1.0 + x * p * (1.0 / 8.0)
        p = 1.0 + x * p * (1.0 / 7.0)
        p = 1.0 + x * p * (1.0 / 6.0)
        p = 1.0 + x * p * (1.0 / 5.0)
        p = 1.0 + x * p * (1.0 / 4.0)
        p = 1.0 + x * p * (1.0 / 3.0)
        p = 1.0 + x * p * 0.5
        p = 1.0 + x * p
        p = p * p
        p = p * p
        return p * p

    @njit(inline="always")
    def _mix(z):
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)

    @njit(inline="always", error_model="numpy")
    def _rate(J, rate_kind, tau_rc, tau_ref, amplitude):
        """Nengo's LIFRate (rate_kind 0) or RectifiedLinear rate, branch-free."""
        if rate_kind == LIF_RATE:
            j = J - 1.0
            on = j > 0.0
            y = 1.0 / (j if on else 1.0)
            r = amplitude / (tau_ref + tau_rc * _log1p(y))
            return r if on else 0.0
        return amplitude * J if J > 0.0 else 0.0

    @njit(inline="always", error_model="numpy")
    def _uniform(key, i):
        z = _mix(key + (i + np.uint64(1)) * _GOLDEN)
        return np.float64(z >> _S11) * _TWO_M53

    @njit(**_OPTIONS)
    def _poisson_tail(lam, u):
        """The Poisson(lam) sample of ``u`` (inversion) where the vectorized
        pass stopped: lam > 1, or a count above 2."""
        if lam > 1.0:
            p = math.exp(-lam)
        else:
            p = _exp_neg(lam)
        cdf = p
        k = 0.0
        while u >= cdf and p > 0.0:
            k += 1.0
            p *= lam / k
            cdf += p
        return k

    @njit(fastmath={"reassoc", "contract"}, **_OPTIONS)
    def _dot(a, b, lo, hi):
        """sum(a[lo:hi] * b[lo:hi]), vectorized (the order of the sum is the
        compiled loop's: the same on every run of the same machine)."""
        acc = 0.0
        for i in range(np.uint64(lo), np.uint64(hi)):
            acc += a[i] * b[i]
        return acc

    @njit(parallel=True, **_OPTIONS)
    def _group_rates_nb(t, enc_gain, bias, rate_kind, tau_rc, tau_ref, amplitude):
        G, k = enc_gain.shape
        P = t.shape[0]
        out = np.empty((G, P, k))
        for g in prange(G):
            for p in range(P):
                for i in range(np.uint64(k)):
                    J = t[p] * enc_gain[g, i] + bias[g, i]
                    out[g, p, i] = _rate(J, rate_kind, tau_rc, tau_ref, amplitude)
        return out

    def _fused_step_py(
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
            # unsigned indices: no negative-index wraparound, so loops vectorize
            lo, hi = np.uint64(chunk_lo[c]), np.uint64(chunk_hi[c])
            xv = x[chunk_dim[c]]
            if spike_kind == RATE:
                for i in range(lo, hi):
                    J = base[i] + enc_gain[i] * xv
                    out[i] = _rate(J, rate_kind, tau_rc, tau_ref, rate_amplitude)
            elif spike_kind == POISSON:
                # vectorized: counts 0, 1, 2 by inversion; the rest marked -1
                n_tail = 0
                for i in range(lo, hi):
                    J = base[i] + enc_gain[i] * xv
                    lam = dt * _rate(J, rate_kind, tau_rc, tau_ref, rate_amplitude)
                    big = lam > 1.0
                    p0 = _exp_neg(0.0 if big else lam)
                    u = _uniform(key, np.uint64(i))
                    p1 = p0 * lam
                    c1 = p0 + p1
                    c2 = c1 + p1 * lam * 0.5
                    k = (1.0 if u >= p0 else 0.0) + (1.0 if u >= c1 else 0.0)
                    tail = big or u >= c2
                    out[i] = -1.0 if tail else spike_scale * k
                    n_tail += 1 if tail else 0
                if n_tail > 0:
                    for i in range(lo, hi):
                        if out[i] < 0.0:
                            J = base[i] + enc_gain[i] * xv
                            r = _rate(J, rate_kind, tau_rc, tau_ref, rate_amplitude)
                            u = _uniform(key, np.uint64(i))
                            out[i] = spike_scale * _poisson_tail(dt * r, u)
            elif spike_kind == REGULAR:
                for i in range(lo, hi):
                    J = base[i] + enc_gain[i] * xv
                    r = _rate(J, rate_kind, tau_rc, tau_ref, rate_amplitude)
                    v = voltage[i] + dt * r
                    n_spikes = math.floor(v)
                    voltage[i] = v - n_spikes
                    out[i] = spike_scale * n_spikes
            else:  # LIF, as nengo.LIF.step (libm's expm1 and log1p)
                for i in range(lo, hi):
                    J = base[i] + enc_gain[i] * xv
                    r = refractory_time[i] - dt
                    delta_t = min(max(dt - r, 0.0), dt)
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
                    out[i] = o
            partial[c] = _dot(decoders, out, lo, hi) if decode else 0.0

    _fused_step_parallel = njit(parallel=True, **_OPTIONS)(_fused_step_py)
    _fused_step_serial = njit(**_OPTIONS)(_fused_step_py)


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
    n = s.enc_gain.shape[0]
    kernel = _fused_step_parallel if n >= PARALLEL_MIN_NEURONS else _fused_step_serial
    kernel(
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
