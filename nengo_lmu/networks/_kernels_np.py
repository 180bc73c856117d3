"""The numpy half of the sub-population kernels: constants, the counter-based
random draws and the numpy reference of each loop (see `nengo_lmu.networks._kernels`,
which compiles the same arithmetic with numba and dispatches between the two)."""

import numpy as np

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


def initial_clock(seed, neurons, chunk=1 << 18, out=None):
    """The first Exp(1) clock of each of ``neurons`` (indices): the draws of step
    -1 (a step the simulator never runs). Drawn ``chunk`` neurons at a time, so
    that the draws' temporaries stay small whatever the number of neurons; into
    ``out`` where given."""
    neurons = np.asarray(neurons)
    key = step_key(seed, -1)
    clock = np.empty(neurons.shape[0]) if out is None else out
    for start in range(0, neurons.shape[0], chunk):
        clock[start : start + chunk] = exp_draws_np(key, neurons[start : start + chunk])
    return clock


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
    if s.out is not None:  # None: nothing reads the neurons' output
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
