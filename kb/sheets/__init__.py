"""Claim sheets: a YAML file per source text, checked and compiled into the KB's claim model."""

from .check import Problem, check_sheet
from .importer import compile_file, import_sheet, new_sheet

__all__ = ["Problem", "check_sheet", "compile_file", "import_sheet", "new_sheet"]
