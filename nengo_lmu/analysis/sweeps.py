"""Sweeps: one CSV row per run, appended as each finishes, resumable."""

import concurrent.futures
import contextlib
import math
import multiprocessing
import sys
import threading

import nengo

from nengo_lmu._io import add_csv_columns, append_csv_row, csv_header, read_csv_rows
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
RESULT_COLUMNS = (
    "nrmse",
    "rmse",
    "readout_nrmse",
    "build_s",
    "run_s",
    "layout",
    "peak_gb",
)
COLUMNS = KEY_COLUMNS + RESULT_COLUMNS
# Results files written before the runs' memory was recorded (read as they are,
# with peak_gb NaN; a sweep that appends to one first adds the column)
LEGACY_COLUMNS = COLUMNS[:-1]


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


_METERED = {"runs": 0}  # measured blocks running in this process
_METERED_LOCK = threading.Lock()


def _status_kb(field):
    """A ``kB`` field of ``/proc/self/status`` (Linux), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _lifetime_peak_gb():
    """This process's peak resident memory since it started (``ru_maxrss``), GB;
    NaN where the ``resource`` module is absent (Windows)."""
    try:
        import resource  # pylint: disable=import-outside-toplevel
    except ImportError:
        return math.nan
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e9 if sys.platform == "darwin" else peak / 1e6  # bytes / kB


@contextlib.contextmanager
def peak_memory():
    """The peak resident memory of this process while the block runs, in GB.

    Yields a dict whose ``"gb"`` is set when the block ends. On Linux the
    kernel's high-water mark (``VmHWM``) is reset as the block starts, so the
    peak is the block's own (imports and all: what a worker needs for the run);
    while another measured block runs in the same process (Dask runs several
    tasks in one worker process) it is not reset, and the peak then covers theirs
    too. Elsewhere it is the process's peak since it started (``ru_maxrss``):
    an upper bound.

    >>> import numpy as np
    >>> with peak_memory() as peak:
    ...     x = np.ones(50_000_000)  # 0.4 GB
    >>> peak["gb"] >= 0.4
    True
    """
    with _METERED_LOCK:
        if _METERED["runs"] == 0:
            with contextlib.suppress(OSError):  # Linux >= 4.0 only
                with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
                    f.write("5")
        _METERED["runs"] += 1
    result = {"gb": math.nan}
    try:
        yield result
    finally:
        with _METERED_LOCK:
            _METERED["runs"] -= 1
        kb = _status_kb("VmHWM")
        result["gb"] = _lifetime_peak_gb() if kb is None else kb / 1e6


# A run's peak memory (`estimate_peak_gb`), what the Dask scheduler is told: the
# interpreter with Nengo, numba and the run's small arrays (0.48-0.54 GB measured
# up to 1e5 neurons), plus what each neuron of a sub-population memory keeps through
# build and run (peaks of 0.92 GB at 1e7 and 5.70 GB at 1e8 neurons in
# benchmarks/results/fast_step/large.json, 5.72 GB for a large-preset run at 1e8:
# 50-55 bytes per neuron above the base), each with a margin.
RUN_BASE_GB = 0.75
RUN_BYTES_PER_NEURON = 58


def estimate_peak_gb(run):
    """The peak memory, in GB, that a run (a dict of KEY_COLUMNS) is expected to
    need: an upper bound for the CPU simulators' layouts (linear in the
    neurons), measured on Linux x86-64 (`RUN_BASE_GB`, `RUN_BYTES_PER_NEURON`).

    >>> round(estimate_peak_gb({"n_neurons": 10**8}), 2)
    6.55
    """
    return RUN_BASE_GB + RUN_BYTES_PER_NEURON * int(run["n_neurons"]) / 1e9


def check_worker_memory(runs, workers):
    """Raise if a run's `estimate_peak_gb` exceeds every Dask worker's memory limit.

    Parameters
    ----------
    runs : list of dict
    workers : list of dict
        The workers of ``Client.scheduler_info()["workers"]`` (``memory_limit`` in
        bytes, 0 where a worker has none).

    Raises
    ------
    ValueError
        Naming the run (order and neurons), its estimate and the largest limit.
    """
    limits = [w.get("memory_limit") or math.inf for w in workers]
    largest = max(limits, default=math.inf)
    for run in runs:
        need = estimate_peak_gb(run)
        if need * 1e9 > largest:
            raise ValueError(
                f"run order={run['order']}, n_neurons={run['n_neurons']} needs about "
                f"{need:.1f} GB (estimate_peak_gb) but the largest Dask worker's "
                f"memory_limit is {largest / 1e9:.1f} GB: start a worker with more "
                "memory (dask worker --memory-limit) or leave this size out"
            )


def _submit_dask(client, runs):
    """Submit each run to a Dask cluster, its memory accounted: runs no worker can
    hold raise before anything starts (`check_worker_memory`); where the workers
    declare a ``memory`` resource (``dask worker ... --resources memory=2e10``, in
    bytes), each run asks for its `estimate_peak_gb`, so that a worker runs at once
    only the runs its memory holds."""
    workers = list(client.scheduler_info()["workers"].values())
    check_worker_memory(runs, workers)
    declared = any("memory" in (w.get("resources") or {}) for w in workers)
    return [
        client.submit(
            run_one,
            r,
            pure=False,
            resources={"memory": estimate_peak_gb(r) * 1e9} if declared else None,
        )
        for r in runs
    ]


def run_one(run):
    """Execute one run (a dict of KEY_COLUMNS); return the full CSV row, with the
    run's peak memory (`peak_memory`) as ``peak_gb``."""
    # Runs solve each decoder once; the on-disk decoder cache would only add
    # lock contention between parallel workers.
    with decoder_cache_disabled(), peak_memory() as peak:
        row = _measure(run)
    row["peak_gb"] = peak["gb"]
    return row


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
    row.update({k: result[k] for k in RESULT_COLUMNS if k in result})
    return row


def run_key(row):
    """What identifies a run (its `KEY_COLUMNS`, normalized): a results row and
    the run that made it have the same key."""
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
    **{k: float for k in ("theta", "duration", "dt") + RESULT_COLUMNS if k != "layout"},
)


def read_results(path):
    """Rows of a results CSV (numbers converted), or [] if it does not exist.

    A file written before runs recorded their memory (`LEGACY_COLUMNS`) is read
    as it is, its rows' ``peak_gb`` NaN.

    A torn last line (a run killed mid-write) is dropped with a warning naming
    the file and line, and cut off the file, so that its run is redone; a file
    with another header, or a bad line before the last, raises
    `nengo_lmu._io.ResultFileError` naming the file and line
    (`nengo_lmu._io.read_csv_rows`).
    """
    if csv_header(path) == list(LEGACY_COLUMNS):
        rows = read_csv_rows(path, LEGACY_COLUMNS, CONVERTERS)
        return [dict(row, peak_gb=math.nan) for row in rows]
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
        submitted to that cluster instead of local processes, each with its
        memory accounted (`estimate_peak_gb`: a run that no worker's memory limit
        holds raises before anything starts; workers that declare a ``memory``
        resource, in bytes, run at once only the runs their memory holds).
    progress : bool
        Show a progress bar.

    Returns
    -------
    rows : list of dict
        Every row of ``csv_path`` that belongs to ``runs`` (old and new).
    """
    done = {run_key(r) for r in read_results(csv_path)}
    todo = [r for r in runs if run_key(r) not in done]
    if todo and csv_header(csv_path) == list(LEGACY_COLUMNS):
        add_csv_columns(csv_path, LEGACY_COLUMNS, COLUMNS)  # peak_gb: nan
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
                futures = _submit_dask(client, todo)
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
    wanted = {run_key(r) for r in runs}
    return [r for r in read_results(csv_path) if run_key(r) in wanted]
