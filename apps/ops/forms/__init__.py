"""The generic forms engine: definitions are data (YAML), one engine validates them all."""

from apps.ops.forms.json_schema import build_json_schema
from apps.ops.forms.spec import FormSpec
from apps.ops.forms.validation import validate_data

__all__ = ["FormSpec", "build_json_schema", "validate_data"]
