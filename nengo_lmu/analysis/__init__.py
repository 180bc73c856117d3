"""Experiments on spiking LMU memories: measurements, sweeps, fits and figures.

- `nengo_lmu.analysis.metrics`: RMSE, NRMSE, bootstrap intervals, log-log fits.
- `nengo_lmu.analysis.experiments`: one measurement of a memory (or of the
  paper's feed-forward ensemble) against the exact system.
- `nengo_lmu.analysis.sweeps`: grids of measurements, run in worker processes or
  on a Dask cluster, one CSV row each, resumable.
- `nengo_lmu.analysis.summary`: fitted slopes, their table, the scaling figure.
- `nengo_lmu.analysis.delay`: the thesis' delay-network protocol (reference
  simulator and nengo-loihi), scored by the thesis' metric and by ours.
"""

from nengo_lmu.analysis.delay import (
    THESIS_INPUT_SEEDS,
    ThesisDelayNetwork,
    delay_protocol,
    delay_window_readout,
    delayed_nrmse,
    ideal_state,
    measure_delay_trial,
    thesis_nrmse,
    thesis_trial,
    undo_readout_filter,
)
from nengo_lmu.analysis.experiments import (
    EXPERIMENTS,
    NEURON_TYPES,
    POISSON_MERGE_WARNING,
    SIMULATORS,
    make_neuron_type,
    measure_feedforward,
    measure_memory,
    simulator_class,
)
from nengo_lmu.analysis.metrics import bootstrap_interval, fit_scaling, nrmse, rmse
from nengo_lmu.analysis.summary import format_summary, plot_scaling, summarize
from nengo_lmu.analysis.sweeps import (
    COLUMNS,
    KEY_COLUMNS,
    RESULT_COLUMNS,
    append_row,
    check_worker_memory,
    estimate_peak_gb,
    make_grid,
    peak_memory,
    read_results,
    run_one,
    run_sweep,
)

__all__ = [
    "COLUMNS",
    "EXPERIMENTS",
    "KEY_COLUMNS",
    "NEURON_TYPES",
    "POISSON_MERGE_WARNING",
    "RESULT_COLUMNS",
    "SIMULATORS",
    "THESIS_INPUT_SEEDS",
    "ThesisDelayNetwork",
    "append_row",
    "bootstrap_interval",
    "check_worker_memory",
    "delay_protocol",
    "delay_window_readout",
    "delayed_nrmse",
    "estimate_peak_gb",
    "fit_scaling",
    "ideal_state",
    "format_summary",
    "make_grid",
    "make_neuron_type",
    "measure_delay_trial",
    "measure_feedforward",
    "measure_memory",
    "nrmse",
    "peak_memory",
    "plot_scaling",
    "read_results",
    "rmse",
    "run_one",
    "run_sweep",
    "simulator_class",
    "summarize",
    "thesis_nrmse",
    "thesis_trial",
    "undo_readout_filter",
]
