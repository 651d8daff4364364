"""The project's errors. Each carries the exit code it means at the command line."""

from __future__ import annotations

__all__ = [
    "EXIT_OK",
    "EXIT_VIOLATION",
    "EXIT_BAD_INPUT",
    "EXIT_CONFLICT",
    "GitflywheelError",
    "InputError",
    "ConflictError",
    "StoreError",
    "RemoteError",
]

EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_BAD_INPUT = 2
EXIT_CONFLICT = 3


class GitflywheelError(Exception):
    """Base of every error the project raises on purpose."""

    exit_code = EXIT_BAD_INPUT

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled as itself, whatever its constructor takes: a worker process's error
        (the site's pages) comes out of the parent as the same error, message and all."""
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(
    kind: type[GitflywheelError], args: tuple[object, ...], state: dict[str, object]
) -> GitflywheelError:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class InputError(GitflywheelError):
    """Input that is not valid: one problem, located by origin (file) and field path."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, origin: str, field: str, reason: str) -> None:
        self.origin = origin
        self.field = field
        self.reason = reason
        super().__init__(f"{origin}: {field}: {reason}" if field else f"{origin}: {reason}")


class ConflictError(GitflywheelError):
    """A session id already recorded with other content, without --revise."""

    exit_code = EXIT_CONFLICT


class StoreError(GitflywheelError):
    """A store that is missing, not a store, or in a state we cannot use."""

    exit_code = EXIT_BAD_INPUT


class RemoteError(GitflywheelError):
    """A remote refused what we sent, or could not be reached."""

    exit_code = EXIT_VIOLATION
