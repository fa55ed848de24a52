"""Read form definition files and store them as versions in the app store.

Loading is idempotent: a file whose content did not change since the newest stored version
adds nothing; a changed file becomes version n+1. Old versions stay, so every record keeps
the definition it was made with.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from apps.ops.core.errors import DefinitionError
from apps.ops.forms.spec import FormSpec
from apps.ops.forms.store import forget_definitions
from apps.ops.models import FormDefinition

DEFINITION_SUFFIXES = (".yaml", ".yml")


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{where}: {error['msg']}" if where else error["msg"])
    return problems


def parse_definition(raw: Any, source: str) -> FormSpec:
    if not isinstance(raw, dict):
        raise DefinitionError(source, ["a form definition must be a mapping (name, title, fields)"])
    try:
        return FormSpec.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError(source, _problems(exc)) from None


def read_definition_file(path: Path) -> FormSpec:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DefinitionError(str(path), [f"not valid YAML: {exc}"]) from None
    spec = parse_definition(raw, str(path))
    if spec.name != path.stem:
        raise DefinitionError(str(path), [f"name {spec.name!r} must match the file name"])
    return spec


def read_definitions(folder: Path) -> list[FormSpec]:
    """All definitions in ``folder`` (``<name>.yaml``), sorted by name."""
    if not folder.is_dir():
        raise DefinitionError(str(folder), ["form definitions folder does not exist"])
    paths = sorted(p for p in folder.iterdir() if p.suffix in DEFINITION_SUFFIXES)
    return [read_definition_file(path) for path in paths]


def checksum(definition: dict[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadResult:
    name: str
    version: int
    created: bool


def store_definition(session: Session, spec: FormSpec) -> LoadResult:
    """Store ``spec`` as a new version unless it equals the newest stored one (flushes only;
    the caller commits). Call it under the bootstrap lock when processes may race."""
    definition = spec.to_json()
    digest = checksum(definition)
    latest = session.scalars(
        select(FormDefinition)
        .where(FormDefinition.name == spec.name)
        .order_by(FormDefinition.version.desc())
        .limit(1)
    ).first()
    if latest is not None and latest.checksum == digest:
        return LoadResult(spec.name, latest.version, created=False)
    version = 1 if latest is None else latest.version + 1
    session.add(
        FormDefinition(name=spec.name, version=version, definition=definition, checksum=digest)
    )
    session.flush()
    forget_definitions(session)
    return LoadResult(spec.name, version, created=True)


def load_definitions(session: Session, folder: Path) -> list[LoadResult]:
    """Read every definition file first (all or nothing), then store the changed ones."""
    specs = read_definitions(folder)
    return [store_definition(session, spec) for spec in specs]
