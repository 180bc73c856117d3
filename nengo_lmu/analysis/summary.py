"""Fits of a sweep's results, their table and the scaling figure."""

import textwrap

import numpy as np

from nengo_lmu.analysis.experiments import NEURON_TYPES
from nengo_lmu.analysis.metrics import bootstrap_interval, fit_scaling


def summarize(rows):
    """One summary dict per (experiment, neuron type, order): slope, interval,
    the error at the largest m, and the largest peak memory of a run there
    (``peak_gb_at_m_max``; NaN where no run recorded it)."""
    groups = {}
    for r in rows:
        name = r["neuron_type"]
        if r.get("simulator", "nengo") != "nengo":
            name = f"{name}@{r['simulator']}"
        groups.setdefault((r["experiment"], name, r["order"]), []).append(r)
    summary = []
    for (experiment, name, order), rs in sorted(groups.items()):
        m = [r["n_neurons"] for r in rs]
        e = [r["nrmse"] for r in rs]
        slope, low, high = fit_scaling(m, e)
        m_max = max(m)
        summary.append(
            {
                "experiment": experiment,
                "neuron_type": name,
                "order": order,
                "slope": slope,
                "ci_low": low,
                "ci_high": high,
                "n_runs": len(rs),
                "m_max": m_max,
                "nrmse_at_m_max": float(
                    np.mean([r["nrmse"] for r in rs if r["n_neurons"] == m_max])
                ),
                # the constant c of error = c / sqrt(m); the paper's line has c = 5
                "rmse_sqrt_m": float(
                    np.mean([r["rmse"] for r in rs if r["n_neurons"] == m_max])
                    * np.sqrt(m_max)
                ),
                "peak_gb_at_m_max": _largest(
                    [r.get("peak_gb", np.nan) for r in rs if r["n_neurons"] == m_max]
                ),
            }
        )
    return summary


def _largest(values):
    """The largest finite value, NaN if there is none."""
    finite = [v for v in values if np.isfinite(v)]
    return float(max(finite)) if finite else float("nan")


def format_summary(summary):
    """The summary as a plain-text table."""
    lines = [
        f"{'experiment':<12}{'neurons':<18}{'order':>6}{'slope':>9}"
        f"{'95% interval':>20}{'runs':>6}{'max m':>9}{'NRMSE@max':>11}"
        f"{'RMSE*sqrt(m)':>14}{'peak GB@max':>13}"
    ]
    for s in summary:
        interval = f"[{s['ci_low']:.3f}, {s['ci_high']:.3f}]"
        peak = s.get("peak_gb_at_m_max", float("nan"))
        peak = f"{peak:.2f}" if np.isfinite(peak) else "-"
        lines.append(
            f"{s['experiment']:<12}{s['neuron_type']:<18}{s['order']:>6}"
            f"{s['slope']:>9.3f}{interval:>20}{s['n_runs']:>6}{s['m_max']:>9}"
            f"{s['nrmse_at_m_max']:>11.4f}{s['rmse_sqrt_m']:>14.2f}{peak:>13}"
        )
    return "\n".join(lines)


def _panel_title(name):
    """``"poisson@nengo_dl"`` -> ``"Poisson-spiking LIF (nengo_dl)"``."""
    base, _, simulator = name.partition("@")
    title = NEURON_TYPES[base][1] if base in NEURON_TYPES else base
    return f"{title} ({simulator})" if simulator else title


def plot_scaling(rows, path_stem):
    """The scaling figure of a sweep, saved as ``path_stem``.png.

    One panel per neuron type (and simulator), sharing both axes: for each order,
    the mean error over seeds against neuron count m, a band for the bootstrap
    95 % interval of that mean, and the fitted log-log slope (`fit_scaling`) in
    the legend. The dotted guides are ``c d / sqrt(m)`` with one constant ``c``
    for the whole figure (the median of ``error * sqrt(m) / d`` over the runs of
    the neuron types expected to scale as 1/sqrt(m), Poisson and non-leaky IF), so
    a curve that parallels its guide falls as 1/sqrt(m) and one that flattens away
    from it levels off. The feed-forward experiment plots RMSE with the paper's
    ``5 / sqrt(m)`` line instead.

    The figure is drawn on its own Agg canvas: matplotlib's backend and pyplot's
    figures are left as they were.

    Returns
    -------
    dict
        ``{panel title: [legend labels]}``, one entry per panel, left to right.
    """
    # pylint: disable=import-outside-toplevel
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    feedforward = all(r["experiment"] == "feedforward" for r in rows)
    metric = "rmse" if feedforward else "nrmse"
    rows = [dict(r) for r in rows]
    for r in rows:  # one panel per simulator too
        if r.get("simulator", "nengo") != "nengo":
            r["neuron_type"] = f"{r['neuron_type']}@{r['simulator']}"
    base = list(NEURON_TYPES)
    names = sorted(
        {r["neuron_type"] for r in rows},
        key=lambda n: (
            base.index(n.split("@")[0]) if n.split("@")[0] in base else 99,
            n,
        ),
    )
    scaling = [r for r in rows if r["neuron_type"].split("@")[0] in ("poisson", "if")]
    guide_c = float(
        np.median(
            [r[metric] * np.sqrt(r["n_neurons"]) / r["order"] for r in scaling or rows]
        )
    )
    fig = Figure(figsize=(1.0 + 3.6 * len(names), 4.2))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(names), sharex=True, sharey=True, squeeze=False)
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    labels = {}
    for ax, name in zip(axes[0], names):
        labels[name] = _scaling_panel(
            ax,
            [r for r in rows if r["neuron_type"] == name],
            metric,
            colors,
            None if feedforward else guide_c,
            np.array(sorted({r["n_neurons"] for r in rows}), dtype=float),
            sorted({r["order"] for r in rows}),
        )
        ax.set_title(_panel_title(name))
    axes[0, 0].set_ylabel(
        "RMSE of the decoded value" if feedforward else "NRMSE of the decoded memory"
    )
    guide = (
        "dotted: 5/sqrt(m), the paper's reference line"
        if feedforward
        else f"dotted: {guide_c:.2g} d/sqrt(m); band: 95 % interval of the mean "
        "over seeds"
    )
    title = ("1-D feed-forward ensemble" if feedforward else "LMU memory") + (
        f": error against neuron count ({guide})"
    )
    # on as many lines as the figure's width needs (one panel: two or three)
    width = fig.get_figwidth()
    fig.suptitle(textwrap.fill(title, width=int(13 * width)), fontsize=10)
    fig.tight_layout()
    fig.savefig(f"{path_stem}.png", dpi=120)
    return {_panel_title(name): labels[name] for name in names}


def _scaling_panel(ax, rows, metric, colors, guide_c, all_m, orders):
    """One panel of `plot_scaling`: a curve, band and guide per order (the paper's
    5 / sqrt(m) line when ``guide_c`` is None); returns the legend labels."""
    labels = []
    for j, order in enumerate(orders):
        rs = [r for r in rows if r["order"] == order]
        if not rs:
            continue
        color = colors[j % len(colors)]
        ms = np.array(sorted({r["n_neurons"] for r in rs}), dtype=float)
        stats = np.array(
            [
                bootstrap_interval([r[metric] for r in rs if r["n_neurons"] == m])
                for m in ms
            ]
        )
        slope, _, _ = fit_scaling([r["n_neurons"] for r in rs], [r[metric] for r in rs])
        label = f"d = {order}: slope {slope:.2f}"
        ax.fill_between(ms, stats[:, 1], stats[:, 2], color=color, alpha=0.25, lw=0)
        ax.loglog(ms, stats[:, 0], marker="o", ms=4, color=color, label=label)
        if guide_c is not None:
            ax.loglog(all_m, guide_c * order / np.sqrt(all_m), ":", color=color)
        labels.append(label)
    if guide_c is None:
        # the reference line of Voelker et al. 2019's spiking figure
        ax.loglog(all_m, 5 / np.sqrt(all_m), "k:", lw=1)
        labels.append("5/sqrt(m) (paper)")
    ax.set_xlabel("neurons m")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return labels
