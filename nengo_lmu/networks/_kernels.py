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

from nengo_lmu.networks._kernels_np import (  # noqa: F401  (re-exported)
    _GOLDEN,
    _LN2_HI,
    _LN2_LO,
    _M1,
    _M2,
    _MANT,
    _MASK,
    _ONE,
    _Q0,
    _Q1,
    _Q2,
    _Q3,
    _Q4,
    _Q5,
    _Q6,
    _S11,
    _S27,
    _S30,
    _S31,
    _SQRT2,
    _SUB,
    _TWO_M53,
    CHUNK,
    LAM_MAX,
    LIF,
    LIF_RATE,
    PARALLEL_MIN_NEURONS,
    POISSON,
    RATE,
    REGULAR,
    RELU_RATE,
    _mix_int,
    _mix_np,
    exp_draws_np,
    fused_step_np,
    group_rates_np,
    initial_clock,
    log_ratio_np,
    poisson_clock_np,
    poisson_lam_np,
    poisson_step_np,
    rates_np,
    step_key,
    sub_key,
)

try:  # pragma: no cover - depends on the environment
    import numba
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    numba = None
    HAVE_NUMBA = False


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

    @njit(**_OPTIONS)
    def _first_at_threshold(base, enc_gain, lo, hi, v):
        """The first of neurons ``lo`` to ``hi`` (sorted by threshold) whose
        threshold ``(1 - base) / |enc_gain|`` (`fused.threshold`, the same
        arithmetic) is at least ``v``: ``np.searchsorted`` of ``v`` in their
        thresholds, computing only those the search reads."""
        a, b = lo, hi
        while a < b:
            mid = a + (b - a) // np.uint64(2)
            if (1.0 - base[mid]) / abs(enc_gain[mid]) < v:
                a = mid + np.uint64(1)
            else:
                b = mid
        return a

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
        write_out,
    ):
        """Poisson spikes of chunk ``c`` (positions ``lo`` to ``hi`` of the
        `PoissonLayout`) by their exponential clocks, into ``out`` (zero) if
        ``write_out``; its decoded sum goes to ``partial[c]``."""
        lo, hi = np.uint64(chunk_lo[c]), np.uint64(chunk_hi[c])
        partial[c] = 0.0
        # only the neurons above threshold have a rate (a prefix of a sorted
        # chunk, with a margin; the rate itself says which)
        xv = x[chunk_dim[c]]
        end = hi
        if chunk_sign[c] != 0.0:
            v = chunk_sign[c] * xv
            v += 1e-9 * (1.0 + abs(v))
            end = _first_at_threshold(base, enc_gain, lo, hi, v)
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
            if write_out:
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
                    if write_out:
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
    def _group_rates_nb(t, enc_gain, bias, rate_kind, tau_rc, tau_ref, amplitude, out):
        G, k = enc_gain.shape
        P = t.shape[0]
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
        write_out,
    ):
        """`fused_step`'s Poisson chunks in turn."""
        for w in range(win_lo.shape[0]):
            lo, hi = np.uint64(win_lo[w]), np.uint64(win_hi[w])
            if write_out:
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
                    write_out,
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
        write_out,
    ):
        """`fused_step`'s Poisson chunks on all cores."""
        for w in prange(win_lo.shape[0]):
            lo, hi = np.uint64(win_lo[w]), np.uint64(win_hi[w])
            if write_out:
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
                    write_out,
                )


def group_rates(
    t,
    enc_gain,
    bias,
    rate_kind,
    tau_rc,
    tau_ref,
    amplitude,
    use_numba=True,
    dtype=np.float64,
):
    """`group_rates_np`, compiled when numba is present (and ``use_numba``);
    computed in float64, stored in ``dtype``."""
    if HAVE_NUMBA and use_numba:
        out = np.empty((enc_gain.shape[0], len(t), enc_gain.shape[1]), dtype=dtype)
        _group_rates_nb(
            np.ascontiguousarray(t, dtype=np.float64),
            np.ascontiguousarray(enc_gain, dtype=np.float64),
            np.ascontiguousarray(bias, dtype=np.float64),
            rate_kind,
            float(tau_rc),
            float(tau_ref),
            float(amplitude),
            out,
        )
        return out
    rates = group_rates_np(t, enc_gain, bias, rate_kind, tau_rc, tau_ref, amplitude)
    return rates.astype(dtype, copy=False)


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
            lay.order,
            lay.base is not None,
            s.decoders if decode else s.enc_gain,
            s.out if s.out is not None else s.enc_gain[:0],
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
            s.out is not None,
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
