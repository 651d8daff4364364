"""Talking to a remote: list its refs, fetch its `main`, push ours, over dulwich's clients.

Local paths and file:// URLs go through the `git` program (`git upload-pack`,
`git receive-pack`), as `git push` does, so that the remote's hooks and settings
(a pre-receive hook, `receive.fsckObjects`, `receive.denyNonFastForwards`) apply. ssh
runs in batch mode, never waiting for a password nobody types, unless GIT_SSH_COMMAND,
GIT_SSH or `core.sshCommand` says how to run it. Whatever goes wrong becomes one
RemoteError that names the remote and the reason, with every secret of its URL hidden.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dulwich.client import (
    GitClient,
    HTTPProxyUnauthorized,
    HTTPUnauthorized,
    LocalGitClient,
    SubprocessGitClient,
    get_transport_and_path,
)
from dulwich.config import apply_instead_of
from dulwich.errors import (
    ApplyDeltaError,
    ChecksumMismatch,
    GitProtocolError,
    HangupException,
    NotGitRepository,
    ObjectFormatException,
)
from dulwich.objects import ObjectID
from dulwich.refs import Ref

from ..errors import RemoteError
from .objectsize import ObjectTooLarge, UnreadablePack, check_pack
from .quarantine import Quarantine
from .remote_url import RemoteLocation, redact_text
from .store import MAIN, Store, dulwich_repo

__all__ = ["Link", "BATCH_SSH", "RemoteMoved"]

BATCH_SSH = "ssh -o BatchMode=yes"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MESSAGE_LINES = 10
_MAX_REASON = 2000  # a web page where a git server should be can be long


class RemoteMoved(RemoteError):
    """A push lost a race: the remote's `main` moved on between our fetch and our push
    (what `sync` retries), as opposed to a remote that refuses the push."""


def _ssh_command(store: Store) -> str:
    """How to run ssh: as the user set it for git, else without prompts."""
    command = os.environ.get("GIT_SSH_COMMAND")
    if command:
        return command
    program = os.environ.get("GIT_SSH")
    if program:
        return shlex.quote(program)
    try:
        return os.fsdecode(dulwich_repo(store).get_config_stack().get((b"core",), b"sshCommand"))
    except KeyError:
        return BATCH_SSH


def _clean(text: str) -> str:
    """Text from elsewhere, made safe to print on one line: no control characters."""
    lines = [_CONTROL.sub("", line).strip() for line in text.splitlines()]
    return "; ".join(line for line in lines if line)


IDLE_SECONDS = 60.0
"""How long a remote may leave a connection silent (to connect, or between two reads or
writes) before the operation is given up: a remote that accepts and never answers would
otherwise hold the store's lock, and the push hook's publishing, for ever. The store's
git config `gitflywheel.networkTimeout` (seconds) sets another."""


def _idle_seconds(config: Any) -> float:
    try:
        value = float(config.get((b"gitflywheel",), b"networkTimeout"))
    except (KeyError, ValueError):
        return IDLE_SECONDS
    return value if value > 0 else IDLE_SECONDS


def _timed_out(exc: BaseException) -> bool:
    """Whether `exc` is, or was raised for, a socket of ours that waited past its
    timeout (urllib3 gives the reason of a failed request as `reason`); not a message
    that says "timed out", which ssh's own, or the remote's, may."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, TimeoutError) or type(seen).__name__.endswith("TimeoutError"):
            return True
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else (seen.__cause__ or seen.__context__)
    return False


def _reason(exc: BaseException) -> str:
    """What went wrong, in a user's words, for the exceptions dulwich raises."""
    if isinstance(exc, HTTPUnauthorized):
        return "the server asks for credentials (HTTP 401); none were given, or they were refused"
    if isinstance(exc, HTTPProxyUnauthorized):
        return "the proxy asks for credentials (HTTP 407)"
    if isinstance(exc, NotGitRepository):
        detail = str(exc)
        return "no git repository there" + (f" ({detail})" if detail else " (not found)")
    if isinstance(exc, HangupException):
        said = _clean("\n".join(line.decode("utf-8", "replace") for line in exc.stderr_lines or []))
        return f"the remote hung up: {said}" if said else "the remote hung up"
    if isinstance(exc, ObjectFormatException | ChecksumMismatch | ApplyDeltaError | zlib.error):
        return f"it sent an object that does not parse ({exc}), so nothing was taken"
    if isinstance(exc, GitProtocolError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, ValueError | KeyError | IndexError | AssertionError | EOFError):
        return f"it did not answer as a git server does ({type(exc).__name__}: {exc})"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__


class Link:
    """A connection to one remote, for one operation; `said` keeps what the remote told us."""

    def __init__(self, store: Store, location: RemoteLocation) -> None:
        self.store = store
        self.location = location
        self.said: list[str] = []
        self.rewritten = location.url
        self.idle = IDLE_SECONDS
        self.client, self.path = self._client()

    def _client(self) -> tuple[GitClient, str]:
        config = dulwich_repo(self.store).get_config_stack()
        self.idle = _idle_seconds(config)
        # `url.<base>.insteadOf` may put credentials of its own into the URL: hide those too.
        self.rewritten = apply_instead_of(config, self.location.url)
        with self.talking("cannot reach it"):
            client, path = get_transport_and_path(
                self.location.url, config=config, ssh_command=_ssh_command(self.store)
            )
        if isinstance(client, LocalGitClient):
            if shutil.which("git") is None:
                raise RemoteError(
                    f"{self.location.display}: a local repository is reached through the `git` "
                    "program, so that its hooks and settings apply, and git is not installed"
                )
            client = SubprocessGitClient()
        return client, path

    @contextmanager
    def talking(self, doing: str) -> Iterator[None]:
        """Turn anything the transport raises into a RemoteError naming the remote; a
        connection the remote leaves silent for `idle` seconds is given up (every socket
        made meanwhile, git:// and http(s) alike, waits no longer)."""
        before = socket.getdefaulttimeout()
        socket.setdefaulttimeout(self.idle)
        try:
            yield
        except RemoteError:
            raise
        except TimeoutError:
            raise RemoteError(self.explain(self._silent(doing))) from None
        except (
            HTTPUnauthorized,
            HTTPProxyUnauthorized,
            NotGitRepository,
            GitProtocolError,
            OSError,
            NotImplementedError,
            ValueError,
            KeyError,
            IndexError,
            AssertionError,
            EOFError,
            ObjectFormatException,
            ChecksumMismatch,
            ApplyDeltaError,
            zlib.error,
        ) as exc:
            if _timed_out(exc):  # dulwich and urllib3 wrap the socket's timeout
                raise RemoteError(self.explain(self._silent(doing))) from None
            raise RemoteError(self.explain(f"{doing}: {_reason(exc)}")) from None
        finally:
            socket.setdefaulttimeout(before)

    def _silent(self, doing: str) -> str:
        return (
            f"{doing}: it did not answer for {self.idle:g} s (the store's git config "
            "gitflywheel.networkTimeout); this store is unchanged"
        )

    def explain(self, reason: str) -> str:
        """`reason`, after the remote's name, with what the remote said, secrets hidden."""
        reason = _clean(reason)
        if len(reason) > _MAX_REASON:
            reason = reason[:_MAX_REASON] + "..."
        # the last lines it said, each once: a sync's attempts hear the same ones again
        recent = list(dict.fromkeys(reversed(self.said)))[:_MESSAGE_LINES][::-1]
        said = f" (remote: {'; '.join(recent)})" if recent else ""
        text = f"{self.location.display}: {reason}{said}"
        return redact_text(self.location.redact(text), self.rewritten)

    def _hear(self, data: bytes) -> None:
        text = _clean(data.decode("utf-8", "replace"))
        if text:
            self.said.append(text)

    def refs(self) -> dict[bytes, bytes]:
        """The remote's refs (name -> id)."""
        with self.talking("cannot list its branches"):
            result = self.client.get_refs(self.path.encode("utf-8", "surrogateescape"))
        return {bytes(k): bytes(v) for k, v in result.refs.items() if v is not None}

    def fetch_main(self, into: Quarantine) -> dict[bytes, bytes]:
        """Fetch the remote's `main` into a quarantine; return the remote's refs. The pack
        lands in a file of the quarantine and every object's size is read from its header
        (`objectsize`) before anything inflates it: one over the quarantine's limit refuses
        the fetch (RemoteError), and nothing of it is indexed."""
        repo = dulwich_repo(into.view)

        def wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
            sha = refs.get(MAIN)
            return [sha] if sha is not None and sha not in repo.object_store else []

        spool = into.path / "incoming.pack"
        with self.talking("cannot fetch from it"), open(spool, "w+b") as pack:
            # No progress callback: dulwich would mix its own indexing progress into it.
            result = self.client.fetch_pack(self.path, wants, repo.get_graph_walker(), pack.write)
            if pack.tell():
                pack.flush()
                self._measure(lambda: check_pack(spool, into.max_object_bytes))
                self._measure(lambda: into.receive(spool))
        spool.unlink()
        self._measure(into.check_loose)
        refs = {bytes(k): bytes(v) for k, v in result.refs.items() if v is not None}
        theirs = refs.get(MAIN)
        if theirs is not None and theirs not in into.view:
            raise RemoteError(
                self.explain(
                    f"its main names commit {theirs.decode('ascii', 'replace')[:12]}, which it "
                    "did not send (or sent as other bytes); nothing was taken"
                )
            )
        return refs

    def _measure(self, check: Callable[[], object]) -> None:
        """Run a size check of what the remote sent; its refusal names the remote."""
        try:
            check()
        except ObjectTooLarge as exc:
            raise RemoteError(
                self.explain(f"it sent an object too large: {exc}; nothing was taken")
            ) from None
        except UnreadablePack as exc:
            raise RemoteError(
                self.explain(f"it sent a pack that does not read ({exc}), so nothing was taken")
            ) from None

    def push_main(
        self,
        expected: bytes | None,
        new: bytes,
        also: Mapping[bytes, bytes] | None = None,
        objects_from: Store | None = None,
    ) -> None:
        """Move the remote's `main` from `expected` to `new`, or fail without change:
        RemoteMoved when it is no longer at `expected` (before the push, or when the
        remote refuses it and its `main` has moved since), RemoteError when it refuses.
        `also` sets other refs (site branches) to our tips, wherever they were. The pack
        is made from `objects_from` (a quarantine's view, which sees the store's objects
        too), by default the store."""
        moved = "its main moved while we worked; run `gitflywheel sync` again"

        def update_refs(refs: dict[bytes, bytes]) -> dict[bytes, bytes]:
            current = refs.get(MAIN)
            if current != expected and current != new:
                raise RemoteMoved(self.explain(moved))
            return {**refs, **(also or {}), MAIN: new}

        def pack_data(*args: Any, **kwargs: Any) -> Any:
            kwargs["progress"] = None  # our own progress is not the remote's word
            return dulwich_repo(objects_from or self.store).generate_pack_data(*args, **kwargs)

        push: Callable[..., Any] = self.client.send_pack
        with self.talking("push refused"):
            result = push(self.path, update_refs, generate_pack_data=pack_data, progress=self._hear)
        for ref in (MAIN, *sorted(also or {})):
            status = (result.ref_status or {}).get(Ref(ref))
            if status is not None:
                if ref == MAIN and self.refs().get(MAIN) not in (expected, new):
                    raise RemoteMoved(self.explain(moved))  # another push landed first
                name = ref.decode("utf-8", "replace").removeprefix("refs/heads/")
                raise RemoteError(self.explain(f"push of {name} refused: {_clean(status)}"))
