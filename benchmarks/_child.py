"""Each measurement of a benchmark in a fresh Python process.

So that its peak memory (``ru_maxrss``) and its imports are its own: the
benchmark script runs itself with ``--one KIND M`` and prints one JSON line.
"""

import json
import resource
import subprocess
import sys


def peak_gb():
    """This process's peak resident memory, GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB -> GB


def run_child(script, kind, m, timeout):
    """``python script --one kind m``: its last JSON line, or an error record."""
    cmd = [sys.executable, script, "--one", kind, str(m)]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"kind": kind, "n_neurons": m, "error": f"timeout {timeout} s"}
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("{"):
            return json.loads(line)
    return {"kind": kind, "n_neurons": m, "error": proc.stderr.strip()[-300:]}
