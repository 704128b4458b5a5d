"""C code generated from the ABI model: compat translation headers and layout-lock headers."""

from __future__ import annotations

from .asserts import AssertsHeader, generate_asserts
from .common import CodegenError, include_line
from .compat import CompatHeader, generate_compat, needs_translation
from .predicates import PREDICATES, predicate

__all__ = [
    "PREDICATES",
    "AssertsHeader",
    "CodegenError",
    "CompatHeader",
    "generate_asserts",
    "generate_compat",
    "include_line",
    "needs_translation",
    "predicate",
]
