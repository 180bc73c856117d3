"""Run an exported LMU memory (.nir) on Lava's Loihi 2 models, fixed and floating point.

Runs in the Python that has Lava (``bash hardware/setup_lava.sh`` makes
``.venv-lava``, Python 3.10, lava-nc 0.10.0)::

    .venv-lava/bin/python hardware/nir_lava_run.py memory.nir input.npy out.npz \
        --dt 0.001 --models fixed float

``input.npy`` is ``(n_steps, size_in)``; ``out.npz`` gets, per model, ``fixed`` /
``float`` ``(n_steps, size_out)``, the graph's readout each step (unfiltered, like
``LMUMemory.output``, and aligned with the input: Lava's one-step Dense delays are
taken out), the quantized parameters (``fixed_*``), and the versions used.

The mapping (our own; Lava's NIR importers were not used) puts the graph written by
``nengo_lmu.nir.to_nir`` on four kinds of Lava processes:

    RingBuffer source (input, graded) -> Dense (enc) -> LIF (neurons)
    LIF -> Dense (rec @ dec, neuron to neuron) -> LIF               (the cycle)
    LIF -> Dense (readout) -> RingBuffer sink

Lava's LIF is a current-based LIF (NIR's CubaLIF) stepped once per ``dt``::

    u[t] = u[t-1] * (1 - du) + a_in[t]
    v[t] = v[t-1] * (1 - dv) + u[t] + bias         spike and v = 0 when v > vth

so with ``du = dt / tau_syn`` and ``dv = dt / tau_mem`` (forward Euler), ``u`` is
NIR's synaptic current times ``dt / tau_mem`` and a spike (NIR: a unit-area delta)
adds ``W * dt / (tau_mem * tau_syn)`` to it. The low-rank recurrence ``dec`` then
``rec`` becomes one neuron-to-neuron Dense, ``rec @ dec``. The Affine's bias enters
``v`` directly as Loihi's bias (NIR passes it through the synapse: the same once the
synapse has settled, a few ``tau_syn``).

Quantization for the fixed-point model (``Loihi2SimCfg(select_tag="fixed_pt")``,
Lava's bit-accurate models ``PyLifModelBitAcc`` and ``PyDenseModelBitAcc``), as
those models define it:

- ``du``, ``dv``: 12-bit unsigned, decay ``(du + 1) / 4096`` per step for ``u``
  and ``dv / 4096`` for ``v``: the time constants are rounded (reported);
- ``u``, ``v``: 24-bit signed; ``v`` saturates at +-2**23, synaptic input is
  shifted left by 6 bits into ``u``, and the threshold ``vth`` (17 bits) by 6;
- weights: 8-bit signed with one shared exponent per Dense (``weight_exp``); the
  model clips to [-256, 255] and drops the lowest bit, so the integers used here
  are even. A negative exponent shifts each step's summed input right (rounding
  towards minus infinity);
- bias: 13-bit signed mantissa times ``2**bias_exp`` (``bias_exp`` in 0..7);
- the input arrives as graded spikes (integers of ``--input-bits`` bits).

The floating-point model (``select_tag="floating_pt"``) runs the same processes with
the unquantized values: the difference between the two is the cost of quantization.
A bit-accurate model reproduces what Loihi's neuron cores compute, step by step, for
these processes; it does not model the chip's timing, its energy, or its limits on
cores, fan-in and message traffic, and it has not been compared with a chip here.
"""

import argparse
import os

import numpy as np

# Lava's fixed-point LIF and Dense (lava/proc/lif/models.py, dense/models.py)
DECAY_BITS = 12  # du, dv: decay per step = d / 2**12
STATE_BITS = 24  # u, v: signed 24 bit
ACT_SHIFT = 6  # synaptic input and threshold are shifted left by 6 bits
VTH_BITS = 17  # vth: unsigned 17 bit
WEIGHT_MAX = 254  # 8-bit mixed-sign weights, clipped to [-256, 255], lowest bit 0
BIAS_MANT_MAX = 4095  # 13-bit signed mantissa
BIAS_EXP_MAX = 7  # 3-bit exponent


def lif_parameters(graph):
    """The CubaLIF node's tau_syn, tau_mem and threshold, checked to be shared."""
    import nir  # pylint: disable=import-outside-toplevel

    neurons = graph.nodes["neurons"]
    if not isinstance(neurons, nir.CubaLIF):
        raise ValueError(
            f"expected a CubaLIF 'neurons' node; got {type(neurons).__name__} "
            "(export with nengo_lmu.nir.to_nir(..., synapse_node='cuba'))"
        )
    values = {}
    for name in ["tau_syn", "tau_mem", "v_threshold", "r", "w_in", "v_leak"]:
        x = np.ravel(np.asarray(getattr(neurons, name), dtype=float))
        if np.ptp(x) > 0:
            raise ValueError(f"all neurons must share {name}")
        values[name] = float(x[0])
    if values["v_leak"] != 0 or np.any(np.asarray(neurons.v_reset) != 0):
        raise ValueError("Lava's LIF needs v_leak = 0 and v_reset = 0")
    return values


def float_parameters(graph, dt):
    """Map the graph onto Lava's LIF and Dense in floating point (threshold 1).

    Returns a dict: ``du``, ``dv``, ``vth``, ``bias`` (per neuron, added to v each
    step), and per-spike (or per unit input) weights ``enc``, ``rec``, ``readout``
    in the units of Lava's ``a_in`` (``readout`` in the graph's output units per
    spike, to be divided by dt).
    """
    p = lif_parameters(graph)
    tau_syn, tau_mem = p["tau_syn"], p["tau_mem"]
    r = p["r"] * p["w_in"] / p["v_threshold"]  # NIR current -> voltage, threshold 1
    # a unit-area input adds dt / tau_syn to NIR's current; u is current * dt/tau_mem
    per_area = r * dt / (tau_syn * tau_mem)
    enc = np.asarray(graph.nodes["enc"].weight, dtype=float)
    bias = np.asarray(graph.nodes["enc"].bias, dtype=float)
    dec = np.asarray(graph.nodes["dec"].weight, dtype=float)
    rec = np.asarray(graph.nodes["rec"].weight, dtype=float)
    readout = np.asarray(graph.nodes["readout"].weight, dtype=float)
    return {
        "du": dt / tau_syn,
        "dv": dt / tau_mem,
        "vth": 1.0,
        "bias": bias * r * dt / tau_mem,
        "enc": enc * per_area * dt,  # a continuous input u holds for dt
        "rec": (rec @ dec) * per_area,  # one spike: a unit-area delta
        "readout": readout,
        "tau_syn": tau_syn,
        "tau_mem": tau_mem,
    }


def quantize_weights(w, scale):
    """Even 8-bit integers and a shared exponent with ``w * scale ~ int * 2**exp``."""
    target = np.asarray(w, dtype=float) * scale
    peak = np.max(np.abs(target))
    if peak == 0:
        return np.zeros(target.shape, dtype=np.int32), 0
    exponent = int(np.ceil(np.log2(peak / WEIGHT_MAX)))
    ints = 2 * np.round(target / 2.0**exponent / 2)  # even: the model drops bit 0
    return np.clip(ints, -WEIGHT_MAX, WEIGHT_MAX).astype(np.int32), exponent


def largest_threshold_bits(graph, dt, u_max, margin=1.25):
    """The largest ``vth`` exponent (<= 17 bits) at which nothing overflows.

    ``v`` is in units of ``vth * 2**6``: a larger threshold means finer synaptic
    input, but ``u`` (24 bits, wraps around) must hold the largest synaptic current,
    and the bias (13-bit mantissa, shifted by at most 7) must fit. The largest
    current is bounded from the graph: ``|enc| * u_max + |bias| + ||rec||`` per
    neuron, the state decoded by ``dec`` staying within the unit ball (the memory's
    radii scale it so), times ``margin``.
    """
    f = float_parameters(graph, dt)
    enc = np.abs(np.asarray(graph.nodes["enc"].weight, dtype=float))
    bias = np.abs(np.asarray(graph.nodes["enc"].bias, dtype=float))
    rec = np.asarray(graph.nodes["rec"].weight, dtype=float)
    current = enc.sum(axis=1) * u_max + bias + np.linalg.norm(rec, axis=1)
    to_v = f["dv"] * lif_parameters(graph)["r"]  # NIR current -> Lava u, threshold 1
    limits = [
        2 ** (STATE_BITS - 1) / (margin * to_v * current.max()),
        BIAS_MANT_MAX * 2**BIAS_EXP_MAX / max(np.max(np.abs(f["bias"])), 1e-30),
    ]
    bits = int(np.floor(np.log2(min(limits) / 2**ACT_SHIFT + 1)))
    return int(np.clip(bits, 1, VTH_BITS))


def fixed_parameters(graph, dt, threshold_bits=None, input_bits=8, u_max=1.0):
    """Quantize `float_parameters` the way Lava's bit-accurate Loihi models need.

    Parameters
    ----------
    threshold_bits : int, optional
        ``vth = 2**threshold_bits - 1`` (at most 17 bits) sets the voltage scale.
        Default: `largest_threshold_bits`.
    input_bits : int
        Signed bits of the graded input spikes; ``u_max`` (the largest input
        magnitude) maps to ``2**(input_bits - 1) - 1``.
    """
    if threshold_bits is None:
        threshold_bits = largest_threshold_bits(graph, dt, u_max)
    f = float_parameters(graph, dt)
    vth = 2**threshold_bits - 1
    v_scale = vth * 2**ACT_SHIFT  # v units per NIR threshold
    act_scale = v_scale / 2**ACT_SHIFT  # a_in units per float a_in
    du = int(np.clip(round(f["du"] * 2**DECAY_BITS) - 1, 0, 2**DECAY_BITS - 1))
    dv = int(np.clip(round(f["dv"] * 2**DECAY_BITS), 0, 2**DECAY_BITS - 1))
    bias = f["bias"] * v_scale
    bias_exp = np.clip(
        np.ceil(np.log2(np.maximum(np.abs(bias), 1) / BIAS_MANT_MAX)), 0, BIAS_EXP_MAX
    ).astype(np.int32)
    bias_mant = np.clip(
        np.round(bias / 2.0**bias_exp), -BIAS_MANT_MAX - 1, BIAS_MANT_MAX
    ).astype(np.int32)
    input_scale = (2 ** (input_bits - 1) - 1) / u_max  # graded-spike units per input
    enc, enc_exp = quantize_weights(f["enc"], act_scale / input_scale)
    rec, rec_exp = quantize_weights(f["rec"], act_scale)
    readout_scale = WEIGHT_MAX / max(np.max(np.abs(f["readout"])), 1e-30)
    readout = 2 * np.round(f["readout"] * readout_scale / 2)
    return {
        "du": du,
        "dv": dv,
        "vth": vth,
        "bias_mant": bias_mant,
        "bias_exp": bias_exp,
        "enc": enc,
        "enc_exp": enc_exp,
        "rec": rec,
        "rec_exp": rec_exp,
        "readout": readout.astype(np.int32),
        "threshold_bits": threshold_bits,
        "bias_clipped": int(np.sum(np.abs(bias) > BIAS_MANT_MAX * 2**BIAS_EXP_MAX)),
        "readout_scale": readout_scale,
        "input_scale": input_scale,
        "input_bits": input_bits,
        # what the chip's decays mean in seconds (Lava adds 1 to du: ds_offset)
        "tau_syn": dt * 2**DECAY_BITS / (du + 1),
        "tau_mem": dt * 2**DECAY_BITS / dv if dv > 0 else np.inf,
    }


def run_lava(graph, inputs, dt, model="fixed", **quantization):
    """Simulate the graph with Lava's ``fixed`` (bit-accurate) or ``float`` models.

    Returns ``(output, parameters)``: the readout each step (``(n_steps,
    size_out)``, aligned with the input) and the parameters used.
    """
    # pylint: disable=import-outside-toplevel
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    inputs = np.asarray(inputs, dtype=float)
    n_steps = inputs.shape[0]
    n = graph.nodes["enc"].weight.shape[0]
    if model == "fixed":
        quantization.setdefault("u_max", np.max(np.abs(inputs)))
        p = fixed_parameters(graph, dt, **quantization)
        data = np.round(inputs * p["input_scale"]).astype(np.int32)
        lif_args = {
            "du": p["du"],
            "dv": p["dv"],
            "vth": p["vth"],
            "bias_mant": p["bias_mant"],
            "bias_exp": p["bias_exp"],
        }
        weights = {k: (p[k], p.get(f"{k}_exp", 0)) for k in ["enc", "rec", "readout"]}
        select_tag = "fixed_pt"
    elif model == "float":
        p = float_parameters(graph, dt)
        data = inputs
        lif_args = {
            "du": p["du"],
            "dv": p["dv"],
            "vth": p["vth"],
            "bias_mant": p["bias"],
        }
        weights = {k: (p[k], 0) for k in ["enc", "rec", "readout"]}
        select_tag = "floating_pt"
    else:
        raise ValueError(f"model must be 'fixed' or 'float'; got {model!r}")

    # one extra step: the readout Dense delivers step k's spikes at step k + 1
    source = Source(data=np.vstack([data, data[-1:]]).T)
    neurons = LIF(shape=(n,), **lif_args)

    def dense(name, message_bits=0):
        w, exponent = weights[name]
        return Dense(
            weights=w,
            weight_exp=exponent,
            num_weight_bits=8,
            num_message_bits=message_bits,
            name=name,
        )

    enc = dense("enc", message_bits=int(p.get("input_bits", 24)))
    rec = dense("rec")
    readout = dense("readout")
    sink = Sink(shape=(weights["readout"][0].shape[0],), buffer=n_steps + 1)
    source.s_out.connect(enc.s_in)
    enc.a_out.connect(neurons.a_in)
    neurons.s_out.connect(rec.s_in)
    rec.a_out.connect(neurons.a_in)
    neurons.s_out.connect(readout.s_in)
    readout.a_out.connect(sink.a_in)
    try:
        neurons.run(
            condition=RunSteps(num_steps=n_steps + 1),
            run_cfg=Loihi2SimCfg(select_tag=select_tag),
        )
        raw = np.asarray(sink.data.get(), dtype=float).T
    finally:
        neurons.stop()
    # raw[k] holds the spikes of step k - 1 (Dense's one-step buffer); a spike is a
    # unit-area delta: 1 / dt for one step
    scale = 1.0 / dt if model == "float" else 1.0 / (dt * p["readout_scale"])
    return raw[1:] * scale, p


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("graph", help=".nir file written by nengo_lmu.nir.write")
    parser.add_argument("inputs", help=".npy array (n_steps, size_in)")
    parser.add_argument("out", help=".npz file to write")
    parser.add_argument("--dt", type=float, default=0.001)
    parser.add_argument(
        "--models", nargs="+", choices=["fixed", "float"], default=["fixed", "float"]
    )
    parser.add_argument(
        "--threshold-bits",
        type=int,
        default=None,
        help="vth = 2**bits - 1 (default: the largest at which nothing overflows)",
    )
    parser.add_argument("--input-bits", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    from importlib.metadata import version  # pylint: disable=import-outside-toplevel

    import nir  # pylint: disable=import-outside-toplevel

    graph = nir.read(args.graph)
    inputs = np.load(args.inputs, allow_pickle=False)
    results = {
        "versions": np.array(
            [f"lava-nc {version('lava-nc')}", f"nir {nir.__version__}"]
        )
    }
    for model in args.models:
        quantization = (
            {"threshold_bits": args.threshold_bits, "input_bits": args.input_bits}
            if model == "fixed"
            else {}
        )
        output, p = run_lava(graph, inputs, args.dt, model=model, **quantization)
        results[model] = output
        if model == "fixed":
            for key, value in p.items():
                results[f"fixed_{key}"] = np.asarray(value)
    np.savez(args.out, **results)


if __name__ == "__main__":
    main()
