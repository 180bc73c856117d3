"""Sweeps: one CSV row per run, appended as each finishes, resumable."""

import concurrent.futures
import contextlib
import multiprocessing

import nengo

from nengo_lmu._io import append_csv_row, read_csv_rows
from nengo_lmu._validation import check_choice
from nengo_lmu.analysis.defaults import (
    FEEDFORWARD_TIMING,
    MEMORY_DT,
    memory_sweep_duration,
)
from nengo_lmu.analysis.experiments import (
    EXPERIMENTS,
    NEURON_TYPES,
    make_neuron_type,
    measure_feedforward,
    measure_memory,
)

KEY_COLUMNS = (
    "experiment",
    "order",
    "n_neurons",
    "neuron_type",
    "seed",
    "theta",
    "duration",
    "dt",
    "simulator",
)
RESULT_COLUMNS = ("nrmse", "rmse", "readout_nrmse", "build_s", "run_s", "layout")
COLUMNS = KEY_COLUMNS + RESULT_COLUMNS


def make_grid(
    experiment="lmu",
    orders=(1, 3, 6),
    neurons=(300, 1000, 3000),
    neuron_types=("lif", "poisson"),
    seeds=2,
    theta=0.5,
    duration=None,
    dt=None,
    simulator="nengo",
):
    """The list of runs (dicts of KEY_COLUMNS) of a sweep, largest first."""
    check_choice(experiment, EXPERIMENTS, "experiment")
    for name in neuron_types:
        check_choice(name, tuple(NEURON_TYPES), "neuron_types")
    if experiment == "feedforward":
        orders = (1,)
        duration = FEEDFORWARD_TIMING["duration"] if duration is None else duration
        dt = FEEDFORWARD_TIMING["dt"] if dt is None else dt
    else:
        duration = memory_sweep_duration(theta) if duration is None else duration
        dt = MEMORY_DT if dt is None else dt
    runs = [
        {
            "experiment": experiment,
            "order": int(order),
            "n_neurons": int(n),
            "neuron_type": name,
            "seed": int(seed),
            "theta": float(theta),
            "duration": float(duration),
            "dt": float(dt),
            "simulator": simulator,
        }
        for n in sorted(neurons, reverse=True)
        for order in orders
        for name in neuron_types
        for seed in range(seeds)
    ]
    return runs


@contextlib.contextmanager
def decoder_cache_disabled():
    """Turn off Nengo's on-disk decoder cache (``nengo.rc``) inside the block and
    restore the setting afterwards."""
    old = nengo.rc.get("decoder_cache", "enabled")
    nengo.rc.set("decoder_cache", "enabled", "False")
    try:
        yield
    finally:
        nengo.rc.set("decoder_cache", "enabled", old)


def run_one(run):
    """Execute one run (a dict of KEY_COLUMNS); return the full CSV row."""
    # Runs solve each decoder once; the on-disk decoder cache would only add
    # lock contention between parallel workers.
    with decoder_cache_disabled():
        return _measure(run)


def _measure(run):
    """`run_one`'s measurement, one of `EXPERIMENTS`."""
    neuron_type = make_neuron_type(run["neuron_type"])
    if run["experiment"] == "feedforward":
        result = measure_feedforward(
            run["n_neurons"],
            neuron_type=neuron_type,
            seed=run["seed"],
            duration=run["duration"],
            dt=run["dt"],
        )
    else:
        # nengo_loihi can quantize the single-ensemble recurrence only (see
        # nengo_lmu.loihi.thesis_memory); the CPU backends use the default layout
        extra = {"layout": "ensemble"} if run["simulator"] == "nengo_loihi" else {}
        result = measure_memory(
            run["order"],
            run["theta"],
            run["n_neurons"],
            neuron_type=neuron_type,
            seed=run["seed"],
            duration=run["duration"],
            dt=run["dt"],
            simulator=run["simulator"],
            warmup=min(run["theta"], run["duration"] / 2),
            **extra,
        )
    row = dict(run)
    row.update({k: result[k] for k in RESULT_COLUMNS})
    return row


def _key(row):
    return tuple(str(_normalize(k, row[k])) for k in KEY_COLUMNS)


def _normalize(column, value):
    if column in ("order", "n_neurons", "seed"):
        return int(float(value))
    if column in ("theta", "duration", "dt"):
        return float(value)
    return str(value)


def _as_int(value):
    return int(float(value))


CONVERTERS = dict(
    {k: _as_int for k in ("order", "n_neurons", "seed")},
    **{k: float for k in ("theta", "duration", "dt") + RESULT_COLUMNS[:-1]},
)


def read_results(path):
    """Rows of a results CSV (numbers converted), or [] if it does not exist.

    A torn last line (a run killed mid-write) is dropped with a warning naming
    the file and line, and cut off the file, so that its run is redone; a file
    with another header, or a bad line before the last, raises
    `nengo_lmu._io.ResultFileError` naming the file and line
    (`nengo_lmu._io.read_csv_rows`).
    """
    return read_csv_rows(path, COLUMNS, CONVERTERS)


def append_row(path, row):
    """Append one row to a CSV in a single write (with a header if new), fsynced,
    so an interrupted sweep never leaves a partial line."""
    append_csv_row(path, COLUMNS, row)


def run_sweep(runs, csv_path, workers=1, scheduler=None, progress=True):
    """Run every run not already in ``csv_path``, appending each row as it ends.

    Parameters
    ----------
    runs : list of dict
        From `make_grid`.
    csv_path : str
        Results file; rows already there (same KEY_COLUMNS) are skipped, so the
        same command run again resumes where an interrupted one stopped.
    workers : int
        Local worker processes (1 = in this process).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``); runs are
        submitted to that cluster instead of local processes.
    progress : bool
        Show a progress bar.

    Returns
    -------
    rows : list of dict
        Every row of ``csv_path`` that belongs to ``runs`` (old and new).
    """
    done = {_key(r) for r in read_results(csv_path)}
    todo = [r for r in runs if _key(r) not in done]
    bar = None
    if progress:
        from tqdm.auto import tqdm  # pylint: disable=import-outside-toplevel

        bar = tqdm(total=len(runs), initial=len(runs) - len(todo), unit="run")

    def finish(row):
        append_row(csv_path, row)
        if bar is not None:
            bar.update(1)

    try:
        if scheduler is not None:
            from dask.distributed import (  # pylint: disable=import-outside-toplevel
                Client,
                as_completed,
            )

            with Client(scheduler) as client:
                futures = [client.submit(run_one, r, pure=False) for r in todo]
                for future in as_completed(futures):
                    finish(future.result())
        elif workers > 1 and len(todo) > 1:
            ctx = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as ex:
                futures = [ex.submit(run_one, r) for r in todo]
                for future in concurrent.futures.as_completed(futures):
                    finish(future.result())
        else:
            for r in todo:
                finish(run_one(r))
    finally:
        if bar is not None:
            bar.close()
    wanted = {_key(r) for r in runs}
    return [r for r in read_results(csv_path) if _key(r) in wanted]
