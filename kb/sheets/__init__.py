"""Claim sheets: a YAML file per source text, checked and compiled into the KB's claim model."""

from .check import Problem, check_sheet
from .importer import import_sheet, new_sheet

__all__ = ["Problem", "check_sheet", "import_sheet", "new_sheet"]
