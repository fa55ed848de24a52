"""The semantic layer's one exception root."""

from __future__ import annotations


class SemanticError(ValueError):
    """A metric query or manifest the semantic layer cannot serve; the message says why."""
