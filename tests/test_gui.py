"""examples/gui_memory.py runs in nengo-gui, driven by a real (headless) browser.

Needs nengo-gui, selenium, Chromium and its chromedriver (Debian: ``apt-get install
chromium chromium-driver``); skips when any is missing. Selenium is always given
the local chromedriver, so it never tries to download one.
"""

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nengo_lmu.analysis import nrmse

pytest.importorskip("nengo_gui", reason="nengo-gui is not installed")
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed"
)
# pylint: disable=wrong-import-position
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gui_memory.py"

# Labels of the example's input and spiking delay readout (their plots' titles).
READOUT_LABEL = "spiking u(t - theta)"
INPUT_LABEL = "input u(t)"
THETA = 0.5  # the example's window, seconds

# Generous limits: the whole test takes 6-13 s on 2 cores, but the GUI imports
# every installed simulator backend (nengo_dl, hence TensorFlow) when it loads a
# model, and the build competes with anything else running on the machine.
SERVER_START_TIMEOUT = 60
PAGE_TIMEOUT = 120
RUN_TIMEOUT = 90

# Chromium without network access or a desktop: no GPU, no sandbox (containers),
# and none of the background services that would try to reach the internet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,900",
]


def _find_executable(*names):
    """The path of the first of ``names`` found on PATH, or None."""
    for name in names:
        path = shutil.which(name)
        if path is not None:
            return path
    return None


class GuiServer:
    """A nengo-gui server process for one script, on a loopback port of its own.

    ``-P 0`` lets the OS choose a free port when the server binds it, so parallel
    test workers never race for a port; the server prints its URL (with the access
    token) once it is listening.

    Parameters
    ----------
    script : pathlib.Path
        The model script; run from its own directory.
    """

    def __init__(self, script):
        self.url = None  # set by wait_for_url
        self.lines = []
        self._queue = queue.Queue()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from nengo_gui.main import main; main()",
                "--no-browser",
                # only 127.0.0.1: "localhost" can bind IPv6 and IPv4 sockets that
                # do not share a port reservation; without SSL, nengo-gui wants
                # --unsecure for any host but "localhost" (this one is loopback)
                "--listen",
                "127.0.0.1",
                "--unsecure",
                "-P",
                "0",
                # never exit on its own (it would, seconds after the page closes)
                "--auto-shutdown",
                "0",
                script.name,
            ],
            cwd=script.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # its own process group, so that stop() reaches anything it starts
            start_new_session=True,
        )
        # Drain the output continuously: a full pipe would block the server.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def output(self):
        """Everything the server has printed so far."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return "".join(self.lines)

    def wait_for_url(self, timeout):
        """The URL (with the access token) the server prints once it listens."""
        pattern = re.compile(r"(https?://\S+/\?token=\S+)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break  # the server exited
            self.lines.append(line)
            match = pattern.search(line)
            if match:
                return match.group(1)
        raise RuntimeError(
            f"nengo-gui printed no URL within {timeout} s "
            f"(exit code {self.process.poll()}):\n{self.output()}"
        )

    def stop(self):
        """End the server's whole process group (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            try:
                # SIGINT would only make nengo-gui ask for confirmation on stdin
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.process.stdout.close()


@pytest.fixture
def gui_server(tmp_path, request):
    """A running nengo-gui server (`GuiServer`) for a copy of the example.

    The server works on a copy (script and layout) because nengo-gui rewrites the
    ``.cfg`` layout file while a page is open.
    """
    workdir = tmp_path / "example"
    workdir.mkdir()
    for suffix in ("", ".cfg"):
        shutil.copy(f"{EXAMPLE}{suffix}", workdir)
    server = GuiServer(workdir / EXAMPLE.name)
    request.addfinalizer(server.stop)
    server.url = server.wait_for_url(SERVER_START_TIMEOUT)
    return server


@pytest.fixture
def browser(tmp_path, request):
    """Headless Chromium through the system's chromedriver."""
    chromium = _find_executable("chromium", "chromium-browser")
    chromedriver = _find_executable("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip(
            "needs Chromium and chromedriver on PATH "
            "(Debian: apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    # a fresh profile: nothing from (or to) any other Chromium session
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(
        service=Service(executable_path=chromedriver), options=options
    )
    request.addfinalizer(driver.quit)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    return driver


def _artifacts_dir(tmp_path):
    path = Path(os.environ.get("NENGO_LMU_ARTIFACTS") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wait(condition, timeout, what, server, interval=0.1):
    """Poll ``condition()`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what}; nengo-gui said:\n"
                f"{server.output()}"
            )
        time.sleep(interval)


def _parse_time(text):
    """The time in the text of the sim control's "Time" row (None if absent)."""
    match = re.search(r"-?\d+\.\d+", text)
    return float(match.group()) if match else None


def _sim_time(driver):
    """The simulation time the GUI's sim control shows."""
    return _parse_time(
        driver.find_element("id", "ticks_tr").get_attribute("textContent")
    )


def _snapshot(driver):
    """The sim control's state and every value plot's, all at one instant.

    Returns
    -------
    snapshot : dict
        ``time``: the displayed simulation time (text); ``running``: whether
        the sim control shows the running state (a pause button); ``plots``: a
        list with, for each value plot, its ``label``, the ``d`` attribute of
        its line (the SVG path on screen) and the ``times`` and ``values``
        (first dimension) it has received, as the page keeps them for redrawing.
    """
    # One script, so the page cannot process simulator updates in between.
    return driver.execute_script(
        """
        var plots = [];
        Nengo.Component.components.forEach(function (c) {
            if (c instanceof Nengo.Value) {
                var line = c.div.querySelector("path.line");
                plots.push({
                    label: c.label.textContent,
                    d: (line && line.getAttribute("d")) || "",
                    times: c.data_store.times,
                    values: c.data_store.data[0],
                });
            }
        });
        return {
            time: document.getElementById("ticks_tr").textContent,
            running: $("#pause_button_icon").hasClass("glyphicon-pause"),
            plots: plots,
        };
        """
    )


def _plot(snapshot, label):
    """The plot titled ``label`` in a `_snapshot`."""
    plots = [p for p in snapshot["plots"] if p["label"] == label]
    labels = [p["label"] for p in snapshot["plots"]]
    assert len(plots) == 1, f"expected one value plot titled {label!r}: {labels}"
    return plots[0]


def _path_points(d):
    """The (x, y) vertices of an SVG path made of M and L commands (as d3 draws)."""
    number = r"(-?\d+(?:\.\d*)?(?:e[-+]?\d+)?)"
    return [
        (float(x), float(y))
        for x, y in re.findall(rf"[ML]\s*{number}\s*,?\s*{number}", d)
    ]


def test_gui_runs_memory_example(browser, gui_server, tmp_path):
    server = gui_server
    screenshot = _artifacts_dir(tmp_path) / "gui_memory.png"
    start = time.monotonic()
    try:
        browser.get(server.url)
        # The page is ready when the sim control's websocket is open and the
        # server has reported "paused" (the play icon, button enabled).
        _wait(
            lambda: browser.execute_script(
                "return typeof sim !== 'undefined' && sim.ws.readyState === 1"
                " && $('#pause_button_icon').hasClass('glyphicon-play')"
                " && !$('#pause_button').attr('disabled');"
            ),
            PAGE_TIMEOUT,
            "the GUI page to load",
            server,
        )
        time_before = _sim_time(browser)
        browser.find_element("id", "pause_button").click()

        # Run past theta plus the plots' 1 s window: the readout then shows the
        # delayed input, not only the memory's start-up from zero. The GUI paces
        # the simulation to about real time (1-2x measured here).
        _wait(
            lambda: (_sim_time(browser) or 0) >= THETA + 1.1,
            RUN_TIMEOUT,
            "the simulation time to pass 1.6 s",
            server,
        )
        run_wall = time.monotonic() - start
        snapshot = _snapshot(browser)
    finally:
        # also when a wait timed out: the picture usually shows why
        try:
            browser.save_screenshot(str(screenshot))
            print(f"nengo-gui screenshot: {screenshot}")
        except WebDriverException as e:  # the browser itself failed
            print(f"no nengo-gui screenshot: {e}")

    time_after = _parse_time(snapshot["time"])
    readout = _plot(snapshot, READOUT_LABEL)
    data_input = _plot(snapshot, INPUT_LABEL)
    print(
        f"sim time {time_before:.3f} s before play, {time_after:.3f} s after "
        f"{run_wall:.1f} s (page load, build and run)"
    )
    # (a) the time starts at exactly zero and advances past the target; the
    # display has 1 ms resolution, so the comparison needs no tolerance.
    assert time_before == 0.0, time_before
    assert time_after > time_before + THETA + 1.0, (time_before, time_after)
    assert snapshot["running"], "the sim control does not show the running state"
    # The plots run on the same clock: the readout's newest sample is within
    # 0.2 s of the displayed time (measured 0.002-0.05 s: the sim control and
    # the plot get their data over separate websockets, every 10 ms or so).
    assert abs(readout["times"][-1] - time_after) < 0.2, readout["times"][-1]

    # (b) the readout's line is drawn: one vertex per 1 ms step received within
    # the plot's 1 s window (1000 when full). We ask for 500: the window is
    # full once the time passes 1 s, but the last updates may still be in flight.
    points = _path_points(readout["d"])
    xs, ys = zip(*points)
    print(
        f"readout path: {len(points)} points spanning {max(ys) - min(ys):.0f} px; "
        f"newest sample at {readout['times'][-1]:.3f} s"
    )
    assert len(points) >= 500, (len(points), readout["d"][:200])
    # Time runs left to right, and the line is not flat: the plot's axes are
    # about 110 px tall at this window size, and the delayed noise (rms 0.4 on a
    # [-1.5, 1.5] axis) spans about 30 px of it; we ask for 10 px.
    assert all(b >= a for a, b in zip(xs, xs[1:])), "x is not monotonic"
    assert max(ys) - min(ys) > 10, (min(ys), max(ys))

    # (c) what the readout plot received is the input plot's data theta earlier
    # (both through the same 20 ms lowpass), over t >= theta. Measured NRMSE
    # 0.09-0.11 (0.09 over [0.5, 2] s in nengo.Simulator); a silent readout
    # scores 1 and the undelayed input 0.85; we allow 0.4.
    step = {
        round(t * 1000): v for t, v in zip(data_input["times"], data_input["values"])
    }
    pairs = [
        (v, step[round((t - THETA) * 1000)])
        for t, v in zip(readout["times"], readout["values"])
        if t >= THETA and round((t - THETA) * 1000) in step
    ]
    assert len(pairs) >= 1000, len(pairs)  # >= 1 s of overlap
    got, target = map(np.asarray, zip(*pairs))
    error = nrmse(got, target)
    print(f"readout vs input delayed by theta: NRMSE {error:.3f} ({len(pairs)} steps)")
    assert error < 0.4, error
