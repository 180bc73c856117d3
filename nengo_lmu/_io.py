"""Result files that survive a crash: CSV rows appended whole, JSON replaced whole.

A long run (a sweep, a benchmark, a training) writes each result as it ends, so
an interrupted run loses nothing already computed and the same command resumes
it. Two failure modes are handled here, once for every writer in the package:

- a row is appended in one ``write`` of a complete line, then fsynced, so a
  kill leaves either the whole line or, at worst (a power cut, a full disk), a
  torn last line; `read_csv_rows` drops a torn last line with a warning naming
  the file and line (and cuts it off the file, so the next row starts on a line
  of its own), and the run that wrote it is redone;
- a JSON file (a summary, a checkpoint's state) is written to a temporary file
  beside it and renamed over it, so a reader sees the old file or the new one,
  never half of one.

A CSV whose header is not the expected one, or with a bad line before its last,
is refused with an error naming the file and line: it is not ours, or it was
edited, and overwriting it could destroy someone's results.
"""

import csv
import io
import json
import os
import tempfile
import warnings


class ResultFileError(ValueError):
    """A results file that cannot be resumed from (named in the message)."""


def append_csv_row(path, columns, row):
    """Append ``row`` (a mapping with every column) to the CSV at ``path``.

    Writes the header first if the file is new or empty. The line is written by
    one ``os.write`` and fsynced before returning.
    """
    path = os.fspath(path)
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    if new:
        writer.writeheader()
    writer.writerow({k: row[k] for k in columns})
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, buf.getvalue().encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _convert(row, converters):
    return {k: converters[k](v) if k in converters else v for k, v in row.items()}


def read_csv_rows(path, columns, converters=None):
    """The rows of a results CSV written by `append_csv_row`, ``[]`` if absent.

    Parameters
    ----------
    path : str or path-like
    columns : sequence of str
        The header the file must have (in this order).
    converters : dict, optional
        ``{column: callable}`` applied to each value (e.g. ``int``, ``float``);
        a value they reject makes its line bad.

    Returns
    -------
    rows : list of dict

    Raises
    ------
    ResultFileError
        If the header is not ``columns``, or a line other than the last is bad
        (wrong number of fields, or a value the converters reject). A bad last
        line is a torn write: it is dropped with a warning and cut off the file.
    """
    path = os.fspath(path)
    converters = converters or {}
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return []
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    complete = text.endswith("\n")
    if complete:
        lines = lines[:-1]  # the empty string after the final newline
    header = next(csv.reader([lines[0]])) if lines else []
    if header != list(columns):
        if len(lines) == 1 and not complete and ",".join(columns).startswith(lines[0]):
            # the header itself was torn: nothing was recorded yet
            warnings.warn(
                f"{path}: dropped a torn header line; starting afresh", stacklevel=2
            )
            _truncate(path, 0)
            return []
        raise ResultFileError(
            f"{path}: line 1 is not this results file's header; expected "
            f"{','.join(columns)!r}, got {lines[0][:200]!r}. Use another output "
            "folder, or move this file away to start afresh"
        )
    rows, offset = [], len(lines[0].encode("utf-8")) + 1
    for number, line in enumerate(lines[1:], start=2):
        last = number == len(lines)
        try:
            values = next(csv.reader([line]))
            if len(values) != len(columns) or (last and not complete):
                raise ValueError(f"{len(values)} fields, expected {len(columns)}")
            rows.append(_convert(dict(zip(columns, values)), converters))
        except ValueError as e:
            if not last:
                raise ResultFileError(
                    f"{path}: line {number} is not a complete row ({e}): "
                    f"{line[:200]!r}. The file was edited or is not ours; fix or "
                    "remove that line to resume"
                ) from None
            warnings.warn(
                f"{path}: line {number} is a torn write ({line[:80]!r}); dropped, "
                "its run will be redone",
                stacklevel=2,
            )
            _truncate(path, offset)
            break
        offset += len(line.encode("utf-8")) + 1
    return rows


def _truncate(path, size):
    with open(path, "r+b") as f:
        f.truncate(size)
        f.flush()
        os.fsync(f.fileno())


def _write_atomic(path, write, suffix):
    """Call ``write(file)`` on a temporary file in ``path``'s folder, then rename
    it over ``path`` (a reader sees the old file or the new one, never a part)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json_atomic(path, obj, **kwargs):
    """Write ``obj`` as JSON to ``path`` by a temporary file renamed over it."""
    _write_atomic(path, lambda f: json.dump(obj, f, **kwargs), ".json")


def csv_header(path):
    """The column names on the first line of the CSV at ``path`` (None if the file
    is absent or empty)."""
    path = os.fspath(path)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        return next(csv.reader([f.readline().rstrip("\r\n")]))


def add_csv_columns(path, old_columns, columns, fill="nan"):
    """Rewrite a results CSV whose header is ``old_columns`` with the header
    ``columns`` (the old ones and new ones), each row's new values ``fill`` and
    its old values as they were written. Atomic (`_write_atomic`); the rows are
    read (and a torn last line dropped) by `read_csv_rows` first."""
    rows = read_csv_rows(path, old_columns)

    def write(f):
        writer = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, fill) for k in columns})

    _write_atomic(path, write, ".csv")


def read_json(path, what="results file"):
    """JSON from ``path``; a broken file raises an error naming it and the fix."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ResultFileError(
            f"{path}: this {what} is not valid JSON ({e}); it was cut short or "
            "edited. Delete it to start afresh"
        ) from None
