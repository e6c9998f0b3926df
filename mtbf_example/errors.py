"""Bad input is a user error: one line naming the file and row, never a traceback."""

from __future__ import annotations


class MtbfError(Exception):
    """An error the user can fix (bad data, unknown gateway, unreachable service)."""


class DataError(MtbfError):
    """A data file that cannot be read as readings; the message names the file and row."""

    def __init__(self, source: str, message: str, row: int | None = None) -> None:
        where = f"{source}:{row}" if row is not None else source
        super().__init__(f"{where}: {message}")
        self.source, self.row = source, row
