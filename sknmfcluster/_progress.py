"""What long work says while it runs: phases, compile announcements, elapsed time.

Every message goes to standard error, prefixed with ``sknmfcluster:``, so
that it never mixes with a program's output. An estimator prints its phases
when its ``verbose`` is set; :func:`report_phases` makes them print whatever
``verbose`` says (the command line uses it: a command is never silent).

Numba compiles the kernels on their first use after installation, which can
take tens of seconds. :func:`watch_compilation` announces the first compile
of a process and :func:`compile_seconds` tells how long compiling took, so
that a caller can report it apart from the fit time. The announcement is
printed whatever ``verbose`` says: a silent half-minute looks like a hang. Loading kernels from
Numba's disk cache is not compiling and is neither announced nor counted.
"""

import sys
import threading
import time
from contextlib import contextmanager

import numba.core.event as numba_event

#: A phase that runs longer than this prints its elapsed time every
#: ``TICK_SECONDS`` seconds, so that a long step never looks like a hang.
TICK_SECONDS = 10.0

PREFIX = "sknmfcluster:"

_lock = threading.Lock()
_report_depth = [0]


_write_lock = threading.Lock()
#: The phases running now, outermost first; only the innermost ticks.
_active = []


def say(message, stream=None):
    """Print one progress line on standard error (or ``stream``).

    The line is written in one call under a lock, so that lines from the
    tickers' threads never run into each other.
    """
    stream = stream or sys.stderr
    with _write_lock:
        stream.write(f"{PREFIX} {message}\n")
        stream.flush()


def reporting(verbose=0):
    """Whether phases print: ``verbose`` is set or :func:`report_phases` is on."""
    return bool(verbose) or _report_depth[0] > 0


@contextmanager
def report_phases():
    """Within this context every phase prints, whatever ``verbose`` says."""
    with _lock:
        _report_depth[0] += 1
    try:
        yield
    finally:
        with _lock:
            _report_depth[0] -= 1


@contextmanager
def silenced():
    """Undo :func:`report_phases` within this context.

    Only phases whose own ``verbose`` is set print: a caller that runs many
    fits (the command line's rank survey) reports its own progress without
    every fit's phases.
    """
    with _lock:
        saved, _report_depth[0] = _report_depth[0], 0
    try:
        yield
    finally:
        with _lock:
            _report_depth[0] += saved


class _Ticker(threading.Thread):
    """Prints the elapsed time of a phase every ``TICK_SECONDS`` seconds.

    Only while the phase is the innermost one running: the line of a nested
    phase says that its parents are running too.
    """

    def __init__(self, name, start):
        super().__init__(daemon=True)
        self.phase_name, self.start_time = name, start
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(TICK_SECONDS):
            with _lock:
                innermost = bool(_active) and _active[-1] is self
            if innermost:
                say(f"{self.phase_name}: "
                    f"{time.perf_counter() - self.start_time:.0f} s elapsed")


@contextmanager
def phase(name, *, verbose=0):
    """Announce a phase of the work, its elapsed time while it runs, its end.

    Prints ``name ...`` when the phase starts, its elapsed time every
    ``TICK_SECONDS`` seconds while it runs, and ``name: done in t s`` at the
    end; nothing unless :func:`reporting` is true. Nested phases print
    inside their parent's, and only the innermost phase prints its elapsed
    time.
    """
    if not reporting(verbose):
        yield
        return
    start = time.perf_counter()
    say(f"{name} ...")
    ticker = _Ticker(name, start)
    with _lock:
        _active.append(ticker)
    ticker.start()
    try:
        yield
    finally:
        ticker.done.set()
        ticker.join()
        with _lock:
            _active.remove(ticker)
    say(f"{name}: done in {time.perf_counter() - start:.2f} s")


class _CompileListener(numba_event.Listener):
    """Counts compile time of the process; announces the first compile."""

    def __init__(self):
        self.depth = 0
        self.started = None
        self.seconds = 0.0
        self.announced = False

    def on_start(self, event):
        self.depth += 1
        if self.depth == 1:
            self.started = time.perf_counter()
            if not self.announced:  # once per process, whatever verbose says
                self.announced = True
                say("compiling the Numba kernels on first use (once after "
                    "installing; later runs load them from the disk cache)")

    def on_end(self, event):
        self.depth -= 1
        if self.depth == 0 and self.started is not None:
            self.seconds += time.perf_counter() - self.started
            self.started = None


_listener = _CompileListener()
numba_event.register("numba:compile", _listener)


def compile_seconds():
    """Seconds this process has spent compiling Numba kernels so far."""
    return _listener.seconds
