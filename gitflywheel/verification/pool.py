"""Commits prepared in worker processes and handed back in commit order.

What a commit's own change shows (commitwork) needs nothing from other commits, so
chunks of the chain go to `jobs` processes, each with the store opened itself; the
caller receives the work commit by commit, in order, with a bounded number of chunks in
flight so that memory does not grow with the store. While the chain is still being
listed (newest commit first, as a walk of the history finds it), the processes start on
its newest commits, so that no core waits for the listing of a long history.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..errors import StoreError
from ..storage.store import Store
from .commitwork import CommitChecks, CommitWork
from .folder import CleanFolders

__all__ = ["CHUNK", "Preparing", "default_jobs"]

CHUNK = 32  # commits per task: large enough that handing work over costs little
_AHEAD = 3  # chunks in flight per process
_EARLY = 64
"""Chunks of the newest commits started while the chain is listed, at most: their work
waits in memory for its turn (about 2 kB a commit), and 64 chunks keep two processes
busy for as long as the listing of 100,000 commits takes (2.6 s)."""
_CLOSE_EVERY = 256
"""Commits prepared between two closings of the packs (`Store.release_packs`), which
drop the pages of their indexes from memory; the pages of their objects are dropped
after every chunk (`Store.release_pack_pages`). Each closing costs the faults of
reading those index pages again: at 100,000 sessions, closing after every chunk made
the preparing 4% slower than closing after every 1,024 commits."""

_checks: CommitChecks | None = None
_since_closed = 0  # commits this process prepared since it last closed the packs


def default_jobs() -> int:
    """One process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _start(store_dir: str) -> None:
    global _checks
    # What the process inherited (modules, compiled templates, the caller's objects)
    # lives as long as it does: out of the collector's sight, its full passes walk only
    # what the commits make.
    gc.freeze()
    _checks = CommitChecks(Store.open(store_dir))


def _prepare(shas: list[bytes]) -> list[CommitWork]:
    global _since_closed
    assert _checks is not None
    done = [_checks.prepare(sha) for sha in shas]
    _since_closed = _released(_checks.store, _since_closed + len(shas))
    return done


def _released(store: Store, since_closed: int) -> int:
    """Drop the pages of packs read from memory (`_CLOSE_EVERY`); the commits prepared
    since the packs were last closed."""
    if since_closed >= _CLOSE_EVERY:
        store.release_packs()
        return 0
    store.release_pack_pages()
    return since_closed


class Preparing:
    """The work of each commit of a chain, prepared in `jobs` processes (in this one when
    `jobs` is 1 or the chain is short, then with the folders `clean` knows of, if given)
    and handed back in the chain's order by `works`. A context manager: leaving it stops
    the processes. `listed` takes the chain newest first and starts the processes on its
    newest commits meanwhile."""

    def __init__(self, store: Store, jobs: int, clean: CleanFolders | None = None) -> None:
        self.store = store
        self.jobs = jobs
        self.clean = clean
        self._pool: ProcessPoolExecutor | None = None
        self._early: list[Future[list[CommitWork]]] = []  # chunks of the newest, newest first

    def __enter__(self) -> Preparing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def listed(self, newest_first: Iterable[bytes]) -> list[bytes]:
        """The chain `newest_first` gives, returned oldest first (the order `works` takes);
        its newest chunks are started as they are listed."""
        listed: list[bytes] = []
        for sha in newest_first:
            listed.append(sha)
            if self.jobs > 1 and len(listed) % CHUNK == 0 and len(listed) >= 2 * CHUNK:
                self._start_early(listed)
        self.store.release_packs()  # what listing the chain read (the pages of the indexes)
        listed.reverse()
        return listed

    def _start_early(self, listed: list[bytes]) -> None:
        """Hand the processes the next chunks of the newest commits listed while they
        have fewer than `_AHEAD` each to do: no more than they prepare while the listing
        goes on, since the judging process takes their work last, after the rest."""
        while (
            len(self._early) < _EARLY
            and (len(self._early) + 1) * CHUNK <= len(listed)
            and sum(not started.done() for started in self._early) < _AHEAD * self.jobs
        ):
            at = len(self._early) * CHUNK
            self._early.append(self._submit(listed[at : at + CHUNK][::-1]))

    def works(self, chain: Sequence[bytes]) -> Iterator[CommitWork]:
        """The work of each commit of `chain` (oldest first: `listed`'s list, or a part of
        the history that was not listed here), in its order."""
        early = len(self._early) * CHUNK  # the newest commits of `chain`, started already
        if self._pool is None and (self.jobs <= 1 or len(chain) < 2 * CHUNK):
            yield from self._here(chain)
            return
        rest = len(chain) - early
        chunks: Iterator[list[bytes]] = (
            list(chain[i : min(i + CHUNK, rest)]) for i in range(0, rest, CHUNK)
        )
        try:
            pending: deque[Future[list[CommitWork]]] = deque()
            for chunk in chunks:
                pending.append(self._submit(chunk))
                if len(pending) >= _AHEAD * self.jobs:
                    break
            while pending:
                done = pending.popleft().result()
                following = next(chunks, None)
                if following is not None:
                    pending.append(self._submit(following))
                yield from done
            while self._early:
                yield from self._early.pop().result()
        except BrokenProcessPool:
            # A dead worker shows at the next result or the next submit, whichever comes first.
            raise _ended(self.store) from None

    def _here(self, chain: Sequence[bytes]) -> Iterator[CommitWork]:
        self.store.release_packs()  # what listing the chain read
        checks = CommitChecks(self.store, clean=self.clean)
        since_closed = 0
        for number, sha in enumerate(chain, 1):
            yield checks.prepare(sha)
            if number % CHUNK == 0:
                since_closed = _released(self.store, since_closed + CHUNK)

    def _submit(self, chunk: list[bytes]) -> Future[list[CommitWork]]:
        if self._pool is None:
            self.store.release_packs()  # what listing the chain read: not the processes'
            self._pool = ProcessPoolExecutor(
                self.jobs,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start,
                initargs=(str(self.store.path),),
            )
        try:
            return self._pool.submit(_prepare, chunk)
        except BrokenProcessPool:
            raise _ended(self.store) from None


def _ended(store: Store) -> StoreError:
    return StoreError(
        f"{store.path}: a process checking commits ended abruptly (out of memory, "
        "or killed); nothing was recorded, run verify again (--jobs 1 uses one process)"
    )
