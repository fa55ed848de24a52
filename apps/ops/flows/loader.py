"""Read the flow definition files (``<name>.yaml``); a mistake names the file."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from apps.ops.core.errors import DefinitionError
from apps.ops.flows.spec import FlowSpec
from apps.ops.forms.loader import DEFINITION_SUFFIXES, _problems

BUILTIN_FLOWS_DIR = Path(__file__).resolve().parent / "definitions"


def read_flows(folder: Path) -> dict[str, FlowSpec]:
    flows: dict[str, FlowSpec] = {}
    if not folder.is_dir():
        return flows
    for path in sorted(p for p in folder.iterdir() if p.suffix in DEFINITION_SUFFIXES):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            spec = FlowSpec.model_validate(raw)
        except yaml.YAMLError as exc:
            raise DefinitionError(str(path), [f"not valid YAML: {exc}"]) from None
        except ValidationError as exc:
            raise DefinitionError(str(path), _problems(exc)) from None
        if spec.name != path.stem:
            raise DefinitionError(str(path), [f"name {spec.name!r} must match the file name"])
        flows[spec.name] = spec
    return flows
