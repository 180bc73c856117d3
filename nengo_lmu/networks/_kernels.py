"""The inner loops of sub-population ensembles, compiled with numba when present.

Two loops, each in a numba version (parallel over chunks of neurons, both cores)
and a numpy version doing the same arithmetic (used when numba is not installed,
or when asked: ``use_numba=False`` here, the ``use_numba`` option of
`nengo_lmu.networks.SubpopulationEnsemble` when building):

- `group_rates`: the firing rates of groups of 1-D neurons at shared evaluation
  points (the sub-population solver's activity matrices);
- `fused_step`: one time step of a sub-population ensemble: input current, rate,
  spike generation and the decoded output, in one pass over the neurons.

Spike generation supports what Nengo's neuron types do, with the same arithmetic:
rates (``"rate"``), Poisson spikes (``"poisson"``, see below), regular spikes
(``"regular"``, `nengo.RegularSpiking` and `nengo.SpikingRectifiedLinear`) and leaky
integrate-and-fire (``"lif"``, `nengo.LIF`).

Poisson spikes come from an exponential clock (time rescaling): each neuron keeps
``clock``, the integrated rate still to go until its next spike. A step subtracts
``rate * dt``; while the clock is at or below zero, the neuron spikes and the clock
gains a fresh Exp(1) draw. The integrated rate's unit-rate Poisson process is a
Poisson process of the neuron's piecewise-constant rate, so a step's count is
exactly Poisson(rate * dt), independent of the other steps' (as Nengo's
`~nengo.PoissonSpiking`), and a step without a spike costs a subtraction. The
Exp(1) draws come from a counter-based generator (SplitMix64's finalizer) keyed by
the seed, the step, the neuron and the spike's index within the step, so they do
not depend on threads or chunking, and the numpy code draws the same numbers. The
initial clocks are Exp(1) draws of the seed (`initial_clock`).
"""

import math

import numpy as np

try:  # pragma: no cover - depends on the environment
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
# threads costs more than it saves; measured on 2 cores: the Poisson step is
# already 1.6x faster on both at 10,000 neurons).
PARALLEL_MIN_NEURONS = 20_000

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


# SplitMix64-style constant that makes the key of a step's j-th draws (j >= 1)
_SUB = np.uint64(0xD2B74407B1CE6E93)
# Exponent and mantissa fields of a float64
_MANT = 0x000FFFFFFFFFFFFF
_ONE = 0x3FF0000000000000
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951
# log(q) = 2 f + 2 f z Q(z), f = (q - 1) / (q + 1), z = f^2: Q(z) = sum_k z^k / (2k + 3)
# fitted by least squares at 200 Chebyshev nodes of z in [0, 0.0295] (|f| up to
# 0.1716 and a margin), in 40-digit arithmetic; |z (Q_fit - Q)| < 6e-18 there.
_Q0, _Q1, _Q2, _Q3 = (
    0.3333333333333335,
    0.19999999999948842,
    0.14285714313385184,
    0.11111105504417156,
)
_Q4, _Q5, _Q6 = 0.09091449039920253, 0.07665715027870976, 0.0730999496070508
# Clocks are not let below -LAM_MAX: intensities above LAM_MAX spikes per step
# (1e6 Hz at dt = 1 ms) are clipped, so that a count is always finite
LAM_MAX = 1000.0


def log_ratio_np(a, b):
    """``log(a / b)`` of positive, normal (or infinite) float64 arrays, in the
    arithmetic of the compiled kernels (bit for bit): ``a = m_a 2^e_a``,
    ``b = m_b 2^e_b``, ``m_a / m_b`` brought to [sqrt(1/2), sqrt(2)] by a factor 2,
    then ``log(m_a / m_b) = 2 atanh(f)``, ``f = (m_a - m_b) / (m_a + m_b)`` (one
    division; the numerator is exact), by a fitted polynomial. About 1 ulp."""
    ba = np.asarray(a, dtype=np.float64).view(np.int64)
    bb = np.asarray(b, dtype=np.float64).view(np.int64)
    e = (ba >> 52) - (bb >> 52)
    ma = ((ba & _MANT) | _ONE).view(np.float64)
    mb = ((bb & _MANT) | _ONE).view(np.float64)
    hi = ma > _SQRT2 * mb
    lo = ma * _SQRT2 < mb
    mb = np.where(hi, mb + mb, mb)
    ma = np.where(lo, ma + ma, ma)
    f = (ma - mb) / (ma + mb)
    z = f * f
    q = _Q6 * z + _Q5
    q = q * z + _Q4
    q = q * z + _Q3
    q = q * z + _Q2
    q = q * z + _Q1
    q = q * z + _Q0
    ef = e.astype(np.float64)
    ef = np.where(hi, ef + 1.0, ef)
    ef = np.where(lo, ef - 1.0, ef)
    f2 = f + f
    return ef * _LN2_HI + (ef * _LN2_LO + (f2 + f2 * (z * q)))


def poisson_lam_np(J, rate_kind, tau_rc, tau_ref, lam_scale):
    """The Poisson intensity per step, ``rate * dt``, at currents J, with the
    compiled kernels' formula (``lam_scale = amplitude * dt``): LIFRate's
    ``log1p(1 / (J - 1))`` as ``log(J / (J - 1))`` (`log_ratio_np`, one division
    less). The compiled kernels fuse multiply-adds, so their values may differ in
    the last bits."""
    J = np.asarray(J, dtype=np.float64)
    with np.errstate(all="ignore"):  # the values at J <= 1 are not used
        if rate_kind == LIF_RATE:
            j = J - 1.0
            lam = lam_scale / (tau_ref + tau_rc * log_ratio_np(J, j))
            return np.where(j > 0.0, lam, 0.0)
        return np.where(J > 0.0, lam_scale * J, 0.0)


def sub_key(key, j):
    """The key of a step's ``j``-th draws (``j = 0``: the step's key itself)."""
    if j == 0:
        return np.uint64(key)
    with np.errstate(over="ignore"):
        return _mix_np(np.uint64(key) + np.uint64(j) * _SUB)


def exp_draws_np(key, idx):
    """Exp(1) draws of neurons ``idx`` for ``key``: ``-log(u)``, ``u`` in (0, 1]
    from SplitMix64's output ``key + (i + 1) * golden`` (53 bits)."""
    i = np.asarray(idx, dtype=np.uint64) + np.uint64(1)
    with np.errstate(over="ignore"):
        z = _mix_np(np.uint64(key) + i * _GOLDEN)
    u = ((z >> _S11) + np.uint64(1)).astype(np.float64) * _TWO_M53
    return log_ratio_np(np.ones_like(u), u)


def initial_clock(seed, n):
    """Each neuron's first Exp(1) clock: the draws of step -1 (a step the
    simulator never runs)."""
    return exp_draws_np(step_key(seed, -1), np.arange(n))


def poisson_clock_np(clock, lam, key, neurons):
    """Advance the exponential clocks by ``lam`` and return each neuron's spike
    count this step (see the module's documentation); ``neurons`` are the
    neurons' own indices (which key their draws). A clock below
    ``-LAM_MAX`` (an intensity above `LAM_MAX` spikes per step) is raised to it
    first, so that the count stays finite."""
    clock -= lam
    counts = np.zeros(clock.shape[0])
    idx = np.flatnonzero(clock <= 0.0)
    clock[idx] = np.maximum(clock[idx], -LAM_MAX)
    j = 0
    while idx.size:
        clock[idx] += exp_draws_np(sub_key(key, j), neurons[idx])
        counts[idx] += 1.0
        idx = idx[clock[idx] <= 0.0]
        j += 1
    return counts


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


def poisson_step_np(s, x, base, step):
    """A Poisson step of `fused_step_np`, over all neurons in the layout's
    order (the compiled kernel skips those below threshold)."""
    lay = s.layout
    base = lay.base if lay.base is not None else base[lay.order]
    J = base + s.enc_gain * x[s.dims]
    lam = poisson_lam_np(J, s.rate_kind, s.tau_rc, s.tau_ref, s.rate_amplitude * s.dt)
    counts = poisson_clock_np(s.clock, lam, step_key(s.seed, step), lay.order)
    spikes = (s.spike_amplitude / s.dt) * counts
    s.out[lay.order] = spikes
    if s.decoders is None:
        return None
    return np.bincount(s.dims, weights=s.decoders * spikes, minlength=s.size_out)


def fused_step_np(state, x, base, step):
    """One step of a sub-population ensemble, in numpy (see `fused_step`)."""
    s = state
    if s.spike_kind == POISSON:
        return poisson_step_np(s, x, base, step)
    J = base + s.enc_gain * x[s.dims]
    if s.spike_kind in (RATE, REGULAR):
        rate = rates_np(J, s.rate_kind, s.tau_rc, s.tau_ref, s.rate_amplitude)
    out = s.out
    if s.spike_kind == RATE:
        out[:] = rate
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

    @intrinsic
    def _cttz(typingctx, x):
        """The number of trailing zero bits of a nonzero uint64."""
        sig = types.uint64(types.uint64)

        def codegen(context, builder, signature, args):
            return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))

        return sig, codegen

    @intrinsic
    def _popcount(typingctx, x):
        """The number of one bits of a uint64."""
        sig = types.uint64(types.uint64)

        def codegen(context, builder, signature, args):
            return builder.ctpop(args[0])

        return sig, codegen

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
    def _log_ratio(a, b):
        """`log_ratio_np` on scalars (the same operations in the same order)."""
        ba, bb = _as_int64(a), _as_int64(b)
        e = (ba >> 52) - (bb >> 52)
        ma = _as_float64((ba & _MANT) | _ONE)
        mb = _as_float64((bb & _MANT) | _ONE)
        hi = ma > _SQRT2 * mb
        lo = ma * _SQRT2 < mb
        mb = mb + mb if hi else mb
        ma = ma + ma if lo else ma
        f = (ma - mb) / (ma + mb)
        z = f * f
        q = _Q6 * z + _Q5
        q = q * z + _Q4
        q = q * z + _Q3
        q = q * z + _Q2
        q = q * z + _Q1
        q = q * z + _Q0
        ef = np.float64(e)
        ef = ef + 1.0 if hi else ef
        ef = ef - 1.0 if lo else ef
        f2 = f + f
        return ef * _LN2_HI + (ef * _LN2_LO + (f2 + f2 * (z * q)))

    @njit(inline="always", error_model="numpy")
    def _poisson_lam(J, rate_kind, tau_rc, tau_ref, lam_scale):
        """`poisson_lam_np` on a scalar, branch-free."""
        if rate_kind == LIF_RATE:
            j = J - 1.0
            lam = lam_scale / (tau_ref + tau_rc * _log_ratio(J, j))
            return lam if j > 0.0 else 0.0
        return lam_scale * J if J > 0.0 else 0.0

    @njit(inline="always", error_model="numpy")
    def _exp_draw(key, i):
        """`exp_draws_np` of one neuron ``i`` (uint64)."""
        z = _mix(key + (i + np.uint64(1)) * _GOLDEN)
        u = np.float64((z >> _S11) + np.uint64(1)) * _TWO_M53
        return _log_ratio(1.0, u)

    @njit(inline="always")
    def _sub_key(key, j):
        """`sub_key` for ``j >= 1``."""
        return _mix(key + np.uint64(j) * _SUB)

    @njit(fastmath={"reassoc", "contract"}, **_OPTIONS)
    def _dot(a, b, lo, hi):
        """sum(a[lo:hi] * b[lo:hi]), vectorized (the order of the sum is the
        compiled loop's: the same on every run of the same machine)."""
        acc = 0.0
        for i in range(np.uint64(lo), np.uint64(hi)):
            acc += a[i] * b[i]
        return acc

    # multiply-adds fused: the clocks' pass is the step's arithmetic
    @njit(fastmath={"contract"}, **_OPTIONS)
    def _advance_clocks(
        lo, hi, xv, base, enc_gain, clock, masks, rate_kind, tau_rc, tau_ref, lam_scale
    ):
        """``clock -= rate * dt`` for neurons ``lo`` to ``hi`` (uint64),
        vectorized; bit ``b`` of ``masks[w]`` says whether neuron
        ``lo + 64 w + b`` is at or below zero (it spiked). Returns how many."""
        n_spiked = 0
        w = 0
        for start in range(lo, hi, 64):
            stop = min(start + np.uint64(64), hi)
            m = np.uint64(0)
            for i in range(start, stop):
                J = base[i] + enc_gain[i] * xv
                t = clock[i] - _poisson_lam(J, rate_kind, tau_rc, tau_ref, lam_scale)
                clock[i] = t
                m |= (np.uint64(1) if t <= 0.0 else np.uint64(0)) << (i - start)
            masks[w] = m
            w += 1
        for k in range(w):
            n_spiked += _popcount(masks[k])
        return n_spiked

    @njit(**_OPTIONS)
    def _poisson_chunk(
        c,
        x,
        base,
        enc_gain,
        chunk_lo,
        chunk_hi,
        chunk_dim,
        chunk_sign,
        threshold,
        order,
        permuted,
        decoders,
        out,
        clock,
        partial,
        key,
        rate_kind,
        tau_rc,
        tau_ref,
        lam_scale,
        spike_scale,
        decode,
    ):
        """Poisson spikes of chunk ``c`` (positions ``lo`` to ``hi`` of the
        `PoissonLayout`) by their exponential clocks, into ``out`` (zero); its
        decoded sum goes to ``partial[c]``."""
        lo, hi = np.uint64(chunk_lo[c]), np.uint64(chunk_hi[c])
        partial[c] = 0.0
        # only the neurons above threshold have a rate (a prefix of a sorted
        # chunk, with a margin; the rate itself says which)
        xv = x[chunk_dim[c]]
        end = hi
        if chunk_sign[c] != 0.0:
            v = chunk_sign[c] * xv
            v += 1e-9 * (1.0 + abs(v))
            end = lo + np.uint64(np.searchsorted(threshold[lo:hi], v))
        masks = np.empty((end - lo + np.uint64(63)) // np.uint64(64), dtype=np.uint64)
        n_spiked = _advance_clocks(
            lo,
            end,
            xv,
            base,
            enc_gain,
            clock,
            masks,
            rate_kind,
            tau_rc,
            tau_ref,
            lam_scale,
        )
        if n_spiked == 0:
            return
        # the spiked neurons' positions (from the masks' bits), their first
        # draws (vectorized, keyed by the neurons' own indices), then their
        # counts (rarely above one) and decoded sum
        spiked = np.empty(n_spiked, dtype=np.uint64)
        ids = np.empty(n_spiked, dtype=np.uint64)
        draws = np.empty(n_spiked)
        n = 0
        for w in range(masks.shape[0]):
            m = masks[w]
            start = lo + np.uint64(64) * np.uint64(w)
            while m != 0:
                spiked[n] = start + _cttz(m)
                n += 1
                m &= m - np.uint64(1)
        if permuted:
            for k in range(n_spiked):
                ids[k] = order[spiked[k]]
        else:
            ids[:] = spiked
        for k in range(n_spiked):  # contiguous ids: vectorizes
            draws[k] = _exp_draw(key, ids[k])
        more = False
        for k in range(n_spiked):
            p = spiked[k]
            t = max(clock[p], -LAM_MAX) + draws[k]
            clock[p] = t
            out[ids[k]] = spike_scale
            more |= t <= 0.0
        acc = spike_scale * _gather_sum(decoders, spiked) if decode else 0.0
        if more:  # rare: neurons with more than one spike
            for k in range(n_spiked):
                p = spiked[k]
                t = clock[p]
                if t <= 0.0:
                    i = order[p]
                    count = 1.0
                    j = 1
                    while t <= 0.0:
                        t += _exp_draw(_sub_key(key, j), np.uint64(i))
                        count += 1.0
                        j += 1
                    clock[p] = t
                    out[i] = spike_scale * count
                    if decode:
                        acc += decoders[p] * (spike_scale * (count - 1.0))
        partial[c] = acc

    @njit(fastmath={"reassoc", "contract"}, **_OPTIONS)
    def _gather_sum(a, idx):
        """sum(a[idx]), vectorized (as `_dot`)."""
        acc = 0.0
        for k in range(idx.shape[0]):
            acc += a[idx[k]]
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

    @njit(**_OPTIONS)
    def _fused_chunk(
        c,
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
        """One chunk ``c`` of `fused_step` (see `_fused_step_serial`)."""
        spike_scale = spike_amplitude / dt
        # unsigned indices: no negative-index wraparound, so loops vectorize
        lo, hi = np.uint64(chunk_lo[c]), np.uint64(chunk_hi[c])
        xv = x[chunk_dim[c]]
        if spike_kind == RATE:
            for i in range(lo, hi):
                J = base[i] + enc_gain[i] * xv
                out[i] = _rate(J, rate_kind, tau_rc, tau_ref, rate_amplitude)
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

    @njit(**_OPTIONS)
    def _fused_step_serial(
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
        """`fused_step`'s chunks in turn. (Two functions, not two compilations of
        one: numba's disk cache keys a function's code by its name, not by
        ``parallel``, so one would load the other's code.)"""
        for c in range(chunk_lo.shape[0]):
            _fused_chunk(
                c,
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
            )

    @njit(parallel=True, **_OPTIONS)
    def _fused_step_parallel(
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
        """`fused_step`'s chunks on all cores."""
        for c in prange(chunk_lo.shape[0]):
            _fused_chunk(
                c,
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
            )

    @njit(**_OPTIONS)
    def _poisson_step_serial(
        x,
        base,
        enc_gain,
        chunk_lo,
        chunk_hi,
        chunk_dim,
        chunk_sign,
        threshold,
        order,
        permuted,
        decoders,
        out,
        clock,
        win_lo,
        win_hi,
        win_runs,
        partial,
        key,
        rate_kind,
        tau_rc,
        tau_ref,
        lam_scale,
        spike_scale,
        decode,
    ):
        """`fused_step`'s Poisson chunks in turn."""
        for w in range(win_lo.shape[0]):
            lo, hi = np.uint64(win_lo[w]), np.uint64(win_hi[w])
            for i in range(lo, hi):
                out[i] = 0.0
            for c in range(win_runs[w], win_runs[w + 1]):
                _poisson_chunk(
                    c,
                    x,
                    base,
                    enc_gain,
                    chunk_lo,
                    chunk_hi,
                    chunk_dim,
                    chunk_sign,
                    threshold,
                    order,
                    permuted,
                    decoders,
                    out,
                    clock,
                    partial,
                    key,
                    rate_kind,
                    tau_rc,
                    tau_ref,
                    lam_scale,
                    spike_scale,
                    decode,
                )

    @njit(parallel=True, **_OPTIONS)
    def _poisson_step_parallel(
        x,
        base,
        enc_gain,
        chunk_lo,
        chunk_hi,
        chunk_dim,
        chunk_sign,
        threshold,
        order,
        permuted,
        decoders,
        out,
        clock,
        win_lo,
        win_hi,
        win_runs,
        partial,
        key,
        rate_kind,
        tau_rc,
        tau_ref,
        lam_scale,
        spike_scale,
        decode,
    ):
        """`fused_step`'s Poisson chunks on all cores."""
        for w in prange(win_lo.shape[0]):
            lo, hi = np.uint64(win_lo[w]), np.uint64(win_hi[w])
            for i in range(lo, hi):
                out[i] = 0.0
            for c in range(win_runs[w], win_runs[w + 1]):
                _poisson_chunk(
                    c,
                    x,
                    base,
                    enc_gain,
                    chunk_lo,
                    chunk_hi,
                    chunk_dim,
                    chunk_sign,
                    threshold,
                    order,
                    permuted,
                    decoders,
                    out,
                    clock,
                    partial,
                    key,
                    rate_kind,
                    tau_rc,
                    tau_ref,
                    lam_scale,
                    spike_scale,
                    decode,
                )


def group_rates(
    t, enc_gain, bias, rate_kind, tau_rc, tau_ref, amplitude, use_numba=True
):
    """`group_rates_np`, compiled when numba is present (and ``use_numba``)."""
    if HAVE_NUMBA and use_numba:
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
    if s.spike_kind == POISSON:
        lay = s.layout
        parallel = n >= PARALLEL_MIN_NEURONS
        (_poisson_step_parallel if parallel else _poisson_step_serial)(
            x,
            lay.base if lay.base is not None else base,
            s.enc_gain,
            s.chunk_lo,
            s.chunk_hi,
            s.chunk_dim,
            lay.chunk_sign,
            lay.threshold,
            lay.order,
            lay.base is not None,
            s.decoders if decode else s.enc_gain,
            s.out,
            s.clock,
            lay.win_lo,
            lay.win_hi,
            lay.win_runs,
            s.partial,
            step_key(s.seed, step),
            s.rate_kind,
            s.tau_rc,
            s.tau_ref,
            s.rate_amplitude * s.dt,
            s.spike_amplitude / s.dt,
            decode,
        )
        return np.add.reduceat(s.partial, s.dim_first_chunk) if decode else None
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
        np.uint64(0),
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
