"""Read the rule definition files (``<name>.yaml``); a mistake names the file."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from apps.ops.core.errors import DefinitionError
from apps.ops.forms.loader import DEFINITION_SUFFIXES, _problems
from apps.ops.rules.spec import RuleSpec


def read_rules(folder: Path) -> dict[str, RuleSpec]:
    rules: dict[str, RuleSpec] = {}
    if not folder.is_dir():
        return rules
    for path in sorted(p for p in folder.iterdir() if p.suffix in DEFINITION_SUFFIXES):
        try:
            spec = RuleSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as exc:
            raise DefinitionError(str(path), [f"not valid YAML: {exc}"]) from None
        except ValidationError as exc:
            raise DefinitionError(str(path), _problems(exc)) from None
        if spec.name != path.stem:
            raise DefinitionError(str(path), [f"name {spec.name!r} must match the file name"])
        rules[spec.name] = spec
    return rules
