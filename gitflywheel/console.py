"""What the command line shows people on standard error: messages, `--quiet`, progress.

A part of the CLI (nothing below it imports this): messages go through `say` (silenced
by `--quiet`) or `error` (never silenced), each line escaped so that what it quotes
cannot drive the terminal; `Progress` draws one line of count, total, rate and time left
while a long command works, on a terminal only, and erases it before anything else is
said. Every message that reports a failure opens with `ERROR_PREFIX`.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import TextIO

import click

from .escape import terminal

__all__ = ["ERROR_PREFIX", "Progress", "error", "is_quiet", "say", "set_quiet"]

ERROR_PREFIX = "error: "  # the one prefix of every error message, click's usage errors too
_QUIET = "gitflywheel.console.quiet"  # ctx.meta key: --quiet was given
REDRAW_SECONDS = 0.25  # a progress line is drawn again at most four times a second

_active: Progress | None = None  # the progress line on the terminal now, if any


def set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """The `--quiet` option's callback: remembered for the whole command."""
    if value:
        ctx.find_root().meta[_QUIET] = True
    return value


def is_quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().meta.get(_QUIET))


def say(message: str) -> None:
    """A message for people, on standard error, unless `--quiet`: whatever it quotes
    (titles, paths, field values) cannot drive the terminal or forge another line."""
    if not is_quiet():
        _clear_progress()
        click.echo(terminal(message), err=True)


def error(message: str) -> None:
    """An error message, on standard error, whatever `--quiet` says."""
    _clear_progress()
    click.echo(terminal(ERROR_PREFIX + message), err=True)


def _clear_progress() -> None:
    if _active is not None:
        _active.clear()


def _duration(seconds: float) -> str:
    """`42s`, `3m05s`, `2h07m`: short enough for a progress line."""
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class Progress:
    """One line on standard error while a command works: `verify: 1,200/5,000 commits
    24% 850/s 4s left`. Drawn only when standard error is a terminal, without `--json`
    or `--quiet`; drawn again at most every REDRAW_SECONDS; erased by `clear` (and before
    any message). Call it as the API's `progress(done, total)` callback; `status` counts
    outcomes by kind, shown beside (`(12 recorded, 3 unchanged)`)."""

    def __init__(
        self,
        label: str,
        unit: str,
        *,
        hidden: bool = False,
        stream: TextIO | None = None,
    ) -> None:
        self.label, self.unit = label, unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = not hidden and not is_quiet() and self.stream.isatty()
        self.started = time.monotonic()
        self.last_drawn = float("-inf")  # the first call draws at once
        self.shown = False
        self.done: int = 0
        self.total: int | None = None
        self.counts: dict[str, int] = {}

    def __enter__(self) -> Progress:
        global _active
        _active = self
        return self

    def __exit__(self, *exc: object) -> None:
        global _active
        self.clear()
        if _active is self:
            _active = None

    def __call__(self, done: int, total: int | None = None) -> None:
        if total != self.total:  # a new stage (site: reading, then pages): a rate of its own
            self.started = time.monotonic()
        self.done, self.total = done, total
        self._draw()

    def status(self, status: str) -> None:
        """One more outcome of this status (ingest, rerender), counted in the line; the
        count of all comes with the next call."""
        self.counts[status] = self.counts.get(status, 0) + 1

    def line(self, now: float) -> str:
        """What the line says at `now` (time.monotonic)."""
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed
        parts = [f"{self.label}: {self.done:,}"]
        if self.total and self.done <= self.total:
            parts[0] += f"/{self.total:,} {self.unit}"
            parts.append(f"{100 * self.done // self.total}%")
        else:
            parts[0] += f" {self.unit}"
        if self.counts:
            parts.append(
                "(" + ", ".join(f"{n:,} {s}" for s, n in sorted(self.counts.items())) + ")"
            )
        if elapsed >= 1:  # before that, a rate says little
            parts.append(f"{rate:,.0f}/s" if rate >= 10 else f"{rate:,.1f}/s")
            if self.total and 0 < self.done < self.total and rate > 0:
                parts.append(f"{_duration((self.total - self.done) / rate)} left")
        return " ".join(parts)

    def _draw(self) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last_drawn < REDRAW_SECONDS:
            return
        self.last_drawn = now
        # cut to the terminal's width: a wrapped line could not be erased
        self.stream.write("\r\x1b[K" + terminal(self.line(now))[: self._width() - 1])
        self.stream.flush()
        self.shown = True

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError):
            columns = 0
        return columns or shutil.get_terminal_size().columns  # 0: not said; COLUMNS, or 80

    def clear(self) -> None:
        """Erase the line (the next message starts at the left edge)."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
