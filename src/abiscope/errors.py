"""Errors as values: what went wrong, where, and what to do. The cli turns them into exit codes.

Nothing here imports anything else from abiscope.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    """A place in a header: file path as given/resolved, 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One compiler diagnostic, in the compiler's words."""

    severity: str  # "error" | "fatal" | "warning" | "note"
    message: str
    location: SourceLocation | None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity}: {self.message}"


@dataclass(frozen=True)
class ParseFailure:
    """A (header, target) pair that did not parse, with the first few diagnostics."""

    header: str
    target: str
    diagnostics: tuple[Diagnostic, ...]

    def summary(self, limit: int = 3) -> str:
        shown = "; ".join(str(d) for d in self.diagnostics[:limit])
        more = len(self.diagnostics) - limit
        return shown + (f" (and {more} more)" if more > 0 else "")


class AbiscopeError(Exception):
    """An error the user can act on; the cli prints it as one message and exits 2."""

    exit_code = 2


class UsageError(AbiscopeError):
    """Bad option, unknown target, contradictory flags."""


class InputError(AbiscopeError):
    """Missing file, header that parses on no target, record pattern matching nothing."""
