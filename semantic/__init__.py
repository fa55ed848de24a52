"""OpsLake's semantic layer: a thin metric compiler over dbt's semantic manifest, on sqlglot.

>>> from semantic import MetricQuery, compile_query, load_manifest
"""

from semantic.compiler import compile_expression, compile_query
from semantic.errors import SemanticError
from semantic.manifest import Manifest, load_manifest, parse_manifest
from semantic.query import Filter, MetricQuery

__all__ = [
    "Filter",
    "Manifest",
    "MetricQuery",
    "SemanticError",
    "compile_expression",
    "compile_query",
    "load_manifest",
    "parse_manifest",
]
