"""Result files survive crashes: torn rows, foreign files, kills mid-write."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from nengo_lmu._io import (
    ResultFileError,
    append_csv_row,
    read_csv_rows,
    read_json,
    write_json_atomic,
)

COLUMNS = ("neuron_type", "n_neurons", "nrmse")
CONVERTERS = {"n_neurons": int, "nrmse": float}


def write_rows(path, n):
    for i in range(n):
        append_csv_row(
            path, COLUMNS, {"neuron_type": "lif", "n_neurons": i, "nrmse": i / 10}
        )


def test_rows_round_trip(tmp_path):
    path = tmp_path / "r.csv"
    write_rows(path, 3)
    rows = read_csv_rows(path, COLUMNS, CONVERTERS)
    assert rows == [
        {"neuron_type": "lif", "n_neurons": i, "nrmse": i / 10} for i in range(3)
    ]
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)


def test_missing_and_empty_files_have_no_rows(tmp_path):
    assert read_csv_rows(tmp_path / "absent.csv", COLUMNS) == []
    (tmp_path / "empty.csv").write_text("")
    assert read_csv_rows(tmp_path / "empty.csv", COLUMNS) == []
    write_rows(tmp_path / "empty.csv", 1)  # an empty file gets its header
    assert len(read_csv_rows(tmp_path / "empty.csv", COLUMNS, CONVERTERS)) == 1


def test_torn_last_line_is_dropped_and_cut(tmp_path):
    """The issue's case: ``1,200,poi`` appended by a half-finished write."""
    path = tmp_path / "r.csv"
    write_rows(path, 2)
    whole = path.read_bytes()
    with open(path, "ab") as f:
        f.write(b"poisson,200,0.0")  # no newline: torn
    with pytest.warns(UserWarning, match=r"r\.csv: line 4 is a torn write"):
        rows = read_csv_rows(path, COLUMNS, CONVERTERS)
    assert len(rows) == 2
    assert path.read_bytes() == whole  # cut off, so the next row starts cleanly
    write_rows(path, 3)
    assert [r["n_neurons"] for r in read_csv_rows(path, COLUMNS, CONVERTERS)] == [
        0,
        1,
        0,
        1,
        2,
    ]


def test_torn_last_value_is_dropped(tmp_path):
    path = tmp_path / "r.csv"
    write_rows(path, 1)
    with open(path, "ab") as f:
        f.write(b"lif,poi\n")  # too few fields (a short write that kept a newline)
    with pytest.warns(UserWarning, match="line 3"):
        assert len(read_csv_rows(path, COLUMNS, CONVERTERS)) == 1


def test_garbage_in_the_middle_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "r.csv"
    write_rows(path, 1)
    with open(path, "a") as f:
        f.write("lif,not-a-number,0.1\n")
    write_rows(path, 1)
    before = path.read_bytes()
    with pytest.raises(ResultFileError, match=r"r\.csv: line 3 is not a complete row"):
        read_csv_rows(path, COLUMNS, CONVERTERS)
    assert path.read_bytes() == before  # nothing destroyed


def test_foreign_header_is_refused(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ResultFileError, match=r"line 1 is not this results file"):
        read_csv_rows(path, COLUMNS)
    assert path.read_text() == "a,b,c\n1,2,3\n"


def test_torn_header_starts_afresh(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("neuron_type,n_ne")
    with pytest.warns(UserWarning, match="torn header"):
        assert read_csv_rows(path, COLUMNS) == []
    write_rows(path, 1)
    assert len(read_csv_rows(path, COLUMNS, CONVERTERS)) == 1


def _run_child(code, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)


def test_sigkill_between_partial_writes(tmp_path):
    """A writer killed between the two halves of a row (what a full disk or a
    power cut can leave): the rows before it are read, the torn one dropped,
    and the resumed run appends on a line of its own."""
    path = tmp_path / "r.csv"
    write_rows(path, 2)
    child = _run_child(
        f"""
        import os, sys, time
        fd = os.open({str(path)!r}, os.O_WRONLY | os.O_APPEND)
        os.write(fd, b"poisson,20")
        os.fsync(fd)
        print("half", flush=True)
        time.sleep(60)
        os.write(fd, b"0,0.5\\n")
        """,
        tmp_path,
    )
    assert child.stdout.readline().strip() == b"half"
    child.send_signal(signal.SIGKILL)
    child.wait()
    with pytest.warns(UserWarning, match="torn write"):
        assert len(read_csv_rows(path, COLUMNS, CONVERTERS)) == 2
    write_rows(path, 1)
    assert len(read_csv_rows(path, COLUMNS, CONVERTERS)) == 3


def test_sigkill_during_appends_leaves_whole_rows(tmp_path):
    """A process appending rows as fast as it can, killed at an arbitrary moment:
    every line on disk is a whole row (one write per row)."""
    path = tmp_path / "r.csv"
    child = _run_child(
        f"""
        import sys
        sys.path.insert(0, {os.getcwd()!r})
        from nengo_lmu._io import append_csv_row
        cols = {COLUMNS!r}
        print("go", flush=True)
        i = 0
        while True:
            row = dict(neuron_type="x" * 50, n_neurons=i, nrmse=0.5)
            append_csv_row({str(path)!r}, cols, row)
            i += 1
        """,
        tmp_path,
    )
    assert child.stdout.readline().strip() == b"go"
    time.sleep(0.5)
    child.send_signal(signal.SIGKILL)
    child.wait()
    rows = read_csv_rows(path, COLUMNS, CONVERTERS)
    assert len(rows) > 0
    assert [r["n_neurons"] for r in rows] == list(range(len(rows)))


def test_json_written_whole_and_errors_name_the_file(tmp_path):
    path = tmp_path / "s.json"
    write_json_atomic(path, {"a": [1, 2]})
    assert read_json(path) == {"a": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temporary left
    path.write_text('{"a": [1,')
    with pytest.raises(ResultFileError, match=r"s\.json: this results file is not"):
        read_json(path)
    with pytest.raises(TypeError):  # not serializable: the old file stays
        write_json_atomic(path, {"a": object()})
    assert path.read_text() == '{"a": [1,'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]
