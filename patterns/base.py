"""What every pattern declares."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    """A pattern's name, the primitive it suits, and the files it adds beside Main.py."""

    name: str
    natural_for: str
    files: tuple[str, ...]
    summary: str
