"""How every kernel is compiled and called: one decorator, one call wrapper.

:func:`kernel` compiles with Numba's disk cache (``cache=True``) so that only
the first run after installing pays the compile time. Where no cache
location is writable (a read-only installation with no writable home, as for
a service user or a read-only container image), Numba refuses ``cache=True``
at decoration time; the kernels are then compiled in memory on every run,
with one warning, instead of failing the import. Several processes may
fill one cache at once (``n_jobs`` in a grid search, test workers): each
kernel's reads and writes of the cache are made one process at a time
(:func:`_one_process_at_a_time`), and the machine code of each process gets
symbol names of its own (:func:`_unique_symbols`).

:func:`interruptible` wraps an entry kernel so that Ctrl-C raises
:class:`KeyboardInterrupt`: a signal that arrives while a kernel runs is
noticed when its result is boxed, which CPython reports as a
``SystemError`` chained (possibly through several ``SystemError``) to the
``KeyboardInterrupt``.
"""

import contextlib
import functools
import glob
import hashlib
import os
import secrets
import threading
import warnings

from numba import njit
from numba.core import bytecode
from numba.extending import overload

#: Flags for the dot-product and axpy loops only: reassociation lets LLVM
#: vectorise the reductions (about 3x here); no ``nnan``/``ninf``, which
#: could delete the guards in front of divisions.
REDUCTION_MATH = {"reassoc", "contract"}

_UNCACHED = []


def kernel(parallel=False, fastmath=False, nogil=False):
    """``numba.njit`` with the disk cache when a cache location is writable."""
    def decorate(function):
        options = {"parallel": parallel, "fastmath": fastmath}
        if nogil:
            options["nogil"] = True
        try:
            return _one_process_at_a_time(_stale_with_any_kernel_source(
                njit(cache=True, **options)(function)))
        except RuntimeError as exc:  # "cannot cache function ...: no locator"
            if not _UNCACHED:
                _UNCACHED.append(str(exc))
                warnings.warn(
                    "sknmfcluster: no writable location for Numba's disk "
                    f"cache ({exc}); the kernels are compiled again in every "
                    "new process. Set NUMBA_CACHE_DIR to a writable directory "
                    "to keep them.", RuntimeWarning, stacklevel=3)
            return njit(**options)(function)
    return decorate


try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory file locks
    fcntl = None

_IN_PROCESS = threading.RLock()
_HELD = {}  # directory -> depth, under _IN_PROCESS


@contextlib.contextmanager
def _cache_lock(directory):
    """Hold an exclusive advisory lock on ``directory``'s lock file.

    Re-entrant within a process (a load that loaded another kernel of the
    same directory would not wait for itself). Without a lock (no
    ``fcntl``, or the file cannot be opened) the body runs unlocked, as
    Numba alone would run it.
    """
    with _IN_PROCESS:
        if _HELD.get(directory):
            _HELD[directory] += 1
            try:
                yield
            finally:
                _HELD[directory] -= 1
            return
        handle = None
        if fcntl is not None:
            try:
                handle = open(os.path.join(directory, "sknmfcluster.lock"),
                              "a")
                fcntl.flock(handle, fcntl.LOCK_EX)
            except OSError:
                if handle is not None:
                    handle.close()
                handle = None
        _HELD[directory] = 1
        try:
            yield
        finally:
            _HELD[directory] = 0
            if handle is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()


@functools.lru_cache(maxsize=None)
def _kernel_sources_digest():
    """A SHA-256 digest of every module of this directory, read once."""
    digest = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "*.py"))):
        digest.update(os.path.basename(path).encode())
        with open(path, "rb") as source:
            digest.update(hashlib.sha256(source.read()).digest())
    return digest.hexdigest()


def _stale_with_any_kernel_source(dispatcher):
    """Make ``dispatcher``'s cache entries stale when a kernel module changes.

    Numba keeps a cached kernel as long as the file that defines it is
    unchanged (its stamp: the file's content in recent versions, its time
    and size in older ones). The machine code of a kernel also holds the
    code of every kernel it calls, inlined, and the global constants it
    reads, from other modules: the pass of ``_dense.py`` holds the row
    rules of ``_rows.py``. After an edit of ``_rows.py`` a process still
    loaded the pass with the old rules (a developer's benchmark then timed
    code that no longer existed). The stamp of every kernel's cache index
    now holds, with Numba's own, a digest of all the modules of this
    directory, which every kernel of the package draws on. An installation
    never changes its files, so users compile once as before; a
    developer's edit of a kernel module recompiles every kernel the next
    time it runs.
    """
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file",
                         None)
    stamp = getattr(cache_file, "_source_stamp", None)
    if stamp is not None:
        try:
            cache_file._source_stamp = (stamp, _kernel_sources_digest())
        except OSError:  # a module that cannot be read: Numba's stamp alone
            pass
    return dispatcher


def _one_process_at_a_time(dispatcher):
    """Make ``dispatcher``'s reads and writes of its disk cache exclusive.

    Numba's cache keeps, per kernel, an index from signatures to numbered
    data files; a write reads the index, takes the first free number and
    writes both back. Two processes compiling different specializations of
    one kernel at the same moment could take the same number: one data
    file then held the other's code, and a third process loading it
    crashed (``SystemError ... returned a result with an exception set``,
    ``'descr' is NULL``; seen when the test suite's two workers and a
    command-line subprocess filled an empty cache). The load and the save
    of an overload (milliseconds, not the compile) now run under a lock
    file in the cache's directory. The same crash had a second cause, the
    symbol names of separate processes (:func:`_unique_symbols`).
    """
    cache = getattr(dispatcher, "_cache", None)
    directory = getattr(cache, "_cache_path", None)
    if directory is None:
        return dispatcher
    for name in ("load_overload", "save_overload"):
        method = getattr(cache, name)

        def locked(*args, _method=method):
            with _cache_lock(directory):
                return _method(*args)
        setattr(cache, name, locked)
    return dispatcher


class _RandomIds:
    """An endless iterator of random 62-bit integers (see :func:`_unique_symbols`)."""

    def __iter__(self):
        return self

    def __next__(self):
        return secrets.randbits(62) | (1 << 62)


def _unique_symbols():
    """Give each function Numba compiles in this process a random id.

    Numba names the machine code of a function after its qualified name and
    an id drawn from a counter that every process starts at 1 (Numba issue
    10486). Our pass kernels are closures, one per family of rules, that
    share one qualified name and one signature; two processes filling one
    cache (the test suite's workers, ``n_jobs``) compiled different ones
    under the same id, so the same symbol named two bodies, and a process
    that loaded both from the cache ran one in place of the other (seen:
    ``SystemError ... 'descr' is NULL`` in the masked pass). Random ids
    make the symbols of different processes distinct; the cache's own keys
    (signature, code and closure) do not use them. Process-wide: other
    Numba code compiled afterwards gets random ids too, which it never sees.
    """
    identity = getattr(bytecode, "FunctionIdentity", None)
    if identity is not None and hasattr(identity, "_unique_ids") \
            and not isinstance(identity._unique_ids, _RandomIds):
        identity._unique_ids = _RandomIds()


_unique_symbols()


def _interrupted(exc):
    """Whether a KeyboardInterrupt lies in the chain of causes of ``exc``."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def interruptible(dispatcher):
    """Wrap an entry kernel so that Ctrl-C during it raises KeyboardInterrupt."""
    @functools.wraps(getattr(dispatcher, "py_func", dispatcher))
    def call(*args):
        try:
            return dispatcher(*args)
        except SystemError as exc:
            if _interrupted(exc):
                raise KeyboardInterrupt from None
            raise
    call.dispatcher = dispatcher
    return call


@kernel()
def nothing(*args):
    """The kernel a :func:`routed` call compiles to where there is nothing to
    do (the rows of another family, a pass without missing entries)."""
    return 0.0


def routed(choose, name, doc, keys=1):
    """A function for kernels whose code is picked when a call is compiled.

    ``route(key, *args)`` (``route(key1, key2, *args)`` with ``keys=2``)
    calls ``choose(key)(*args)``, where ``key`` is the *value* of a literal
    argument (a constant of the entry kernel's closure, which Numba types as
    a literal and passes on through the calls) and None for an ordinary
    one. Only the kernel chosen is
    compiled into the caller: Numba types every branch of an ``if`` on a
    run-time value, so a kernel that chooses among rules by an integer
    compiles all of them. Callable from kernels only.
    """
    if keys == 1:
        def route(key, *args):
            raise TypeError(f"{name} is called from kernels only")

        @overload(route, prefer_literal=True)
        def _choose(key, *args):
            target = choose(_literal(key))

            def call(key, *args):
                return target(*args)
            return call
    else:
        def route(key, key2, *args):
            raise TypeError(f"{name} is called from kernels only")

        @overload(route, prefer_literal=True)
        def _choose(key, key2, *args):
            target = choose(_literal(key), _literal(key2))

            def call(key, key2, *args):
                return target(*args)
            return call
    route.__name__ = route.__qualname__ = name
    route.__doc__ = doc
    return route


def _literal(numba_type):
    """The value of a Numba literal type, or None for a non-literal one."""
    return getattr(numba_type, "literal_value", None)
