"""The one exception family the core raises; the shells turn it into a message and an exit code."""

from __future__ import annotations

__all__ = [
    "HairtrackError",
    "InputError",
    "CsvError",
    "NotFoundError",
    "ConflictError",
    "DatabaseBusyError",
    "DatabaseVersionError",
]


class HairtrackError(Exception):
    """Base class of every error hairtrack reports to a person."""


class InputError(HairtrackError, ValueError):
    """A value given by the user is not acceptable (the message says which and why)."""


class CsvError(InputError):
    """A CSV file was rejected; ``problems`` holds ``(line, reason)`` pairs, first problem first."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = list(problems)
        super().__init__("\n".join(f"line {line}: {reason}" for line, reason in self.problems))


class NotFoundError(HairtrackError, LookupError):
    """A named record (profile, device, treatment) does not exist."""


class ConflictError(HairtrackError):
    """The change would duplicate or contradict a stored record."""


class DatabaseBusyError(HairtrackError):
    """Another process held the database for longer than the busy timeout."""


class DatabaseVersionError(HairtrackError):
    """The database schema is not one this version of hairtrack can migrate."""
