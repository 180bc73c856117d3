"""TensorFlow's start-up messages, quieted where a command starts."""

import contextlib
import importlib
import importlib.util
import os
import re
import sys
import tempfile

# TensorFlow's C++ log lines: "2026-12-02 15:03:36.691960: W tensorflow/..."
_TF_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] tensorflow/")
_TF_LOG_CONTINUATION = re.compile(r"^To enable the following instructions:")


@contextlib.contextmanager
def _without_tensorflow_log_lines():
    """Route file descriptor 2 (where C++ code and child processes write) to a
    temporary file, then replay everything but TensorFlow's C++ log lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", errors="replace")
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if not (_TF_LOG_LINE.match(line) or _TF_LOG_CONTINUATION.match(line))
    ]
    sys.stderr.write("".join(kept))


def quiet_tensorflow():
    """Call where a command starts (never at import): TensorFlow's C++ start-up
    messages off unless the user asked for them.

    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless the user set it, then imports
    TensorFlow and NengoDL now, where installed. NengoDL 3.6 sets
    ``TF_CPP_MIN_LOG_LEVEL=1`` at import (``nengo_dl/__init__.py``) and then
    starts a Python process that imports TensorFlow to look for a GPU
    (``nengo_dl/utils.py``); that process inherits the lowered level and prints
    "TF-TRT Warning: Could not find TensorRT" and the like to our standard
    error, whatever the user set. None of those lines concern a CPU run, so
    unless the user asked for them (a level of 0 or 1), they are dropped from
    what those two imports print (everything else they print is passed on), and
    the user's level is put back.
    """
    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    quiet = level not in ("0", "1")  # the user did not ask for TF's messages
    with _without_tensorflow_log_lines() if quiet else contextlib.nullcontext():
        for name in ("tensorflow", "nengo_dl"):
            if name not in sys.modules and importlib.util.find_spec(name):
                importlib.import_module(name)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = level  # what nengo_dl lowered
