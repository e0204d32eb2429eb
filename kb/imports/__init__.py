"""Dataset imports (UCDP GED, ACLED): CSV rows -> claims, events, actors and places, all-or-nothing."""

from __future__ import annotations

from .common import ImportResult
from .pipeline import run_import

FORMATS = ("ucdp-ged", "acled")

__all__ = ["FORMATS", "ImportResult", "run_import"]
