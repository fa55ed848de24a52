#!/usr/bin/env python
"""Provision OpsLake's Superset as code: users/roles, and the assets tree.

Run it with Superset's own interpreter (the main venv has no Superset, and
Superset's venv has none of our packages, so this file imports only the
standard library and PyYAML at module level; Superset is imported lazily)::

    .venv-superset/bin/python apps/bi/provision.py uri      # print the lake URI
    .venv-superset/bin/python apps/bi/provision.py render   # assets -> bundle dir
    .venv-superset/bin/python apps/bi/provision.py init     # WAL + roles + users
    .venv-superset/bin/python apps/bi/provision.py assets   # render + import + roles

``init`` expects ``superset db upgrade`` and ``superset init`` to have run
(``make superset-init`` does all three). ``assets`` is idempotent: every object
carries a fixed uuid, and the import overwrites what exists instead of adding.

Rendering: every ``*.yaml`` under ``apps/bi/assets`` is parsed, and each string
value containing ``${NAME}`` gets NAME from :func:`variables` (an unknown name
is an error). The rendered tree is written to ``$OPSLAKE_HOME/superset/bundle``
(a valid ``superset import-directory`` tree, handy for debugging) and imported
with Superset's ``ImportAssetsCommand`` as the admin user.

Hooks for generated content:
* metrics: if ``$OPSLAKE_SUPERSET_METRICS_FILE`` (default
  ``$OPSLAKE_HOME/semantic/superset_metrics.json``) exists, it maps
  ``"<schema>.<table>"`` to a list of Superset metrics
  (``metric_name``, ``expression``, optional ``verbose_name``, ``description``,
  ``d3format``, ``metric_type``, ``warning_text``, ``extra``). They are added to
  that dataset's metrics; a generated metric replaces a hand-written one of the
  same ``metric_name`` (the semantic layer is the one definition).
* more dashboards/charts/datasets: drop more YAML files into the tree.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

BI_DIR = Path(__file__).resolve().parent
ASSETS_DIR = BI_DIR / "assets"
SECURITY_FILE = BI_DIR / "security.yaml"
CONFIG_FILE = BI_DIR / "superset_config.py"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
YAML_SUFFIXES = {".yaml", ".yml"}
ADMIN = "admin"


class ProvisionError(RuntimeError):
    """A provisioning problem a person can act on."""


# ---------------------------------------------------------------------------
# Where things are (mirrors warehouse/settings.py; this venv cannot import it)
# ---------------------------------------------------------------------------
def _env(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name)
    return value if value not in (None, "") else default


def opslake_home(env: Mapping[str, str] = os.environ) -> Path:
    return Path(_env(env, "OPSLAKE_HOME", "var")).absolute()


def lake_paths(env: Mapping[str, str] = os.environ) -> tuple[Path, Path]:
    """(catalog path, DuckDB extension directory), as the main settings define them."""
    home = opslake_home(env)
    lake_dir = Path(_env(env, "OPSLAKE_LAKE_DIR", str(home / "lake"))).absolute()
    ext_dir = Path(_env(env, "OPSLAKE_EXTENSION_DIR", str(home / "duckdb_ext"))).absolute()
    return lake_dir / "catalog.sqlite", ext_dir


def lake_sqlalchemy_uri(env: Mapping[str, str] = os.environ) -> str:
    """The read-only DuckLake URI Superset uses.

    ``OPSLAKE_SUPERSET_LAKE_URI`` wins when set (e.g. the output of
    ``Lake.from_settings().sqlalchemy_uri()`` or a PostgreSQL-catalog lake).
    Threads and memory are capped per gunicorn worker.
    """
    override = env.get("OPSLAKE_SUPERSET_LAKE_URI")
    if override:
        return override
    catalog, ext_dir = lake_paths(env)
    for path in (catalog, ext_dir):
        if any(c in str(path) for c in "?#&%"):
            raise ProvisionError(f"path {path} has a character a SQLAlchemy URI cannot carry")
    threads = _env(env, "OPSLAKE_SUPERSET_DUCKDB_THREADS", "2")
    memory = _env(env, "OPSLAKE_SUPERSET_DUCKDB_MEMORY_LIMIT", "2GB")
    query = "&".join(
        [
            f"extension_directory={quote(str(ext_dir), safe='/')}",
            "autoinstall_known_extensions=false",
            "access_mode=read_only",
            f"threads={threads}",
            f"memory_limit={memory}",
            # spill where every other lake connection spills (Lake.spill_path)
            f"temp_directory={quote(str(catalog.parent / 'spill'), safe='/')}",
        ]
    )
    return f"duckdb:///ducklake:sqlite:{quote(str(catalog), safe='/')}?{query}"


def variables(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Everything a ``${NAME}`` in the assets tree may refer to."""
    catalog, ext_dir = lake_paths(env)
    return {
        "LAKE_SQLALCHEMY_URI": lake_sqlalchemy_uri(env),
        "LAKE_CATALOG_PATH": str(catalog),
        "LAKE_EXTENSION_DIR": str(ext_dir),
        "OPSLAKE_HOME": str(opslake_home(env)),
    }


def default_metrics_file(env: Mapping[str, str] = os.environ) -> Path:
    return Path(
        _env(
            env,
            "OPSLAKE_SUPERSET_METRICS_FILE",
            str(opslake_home(env) / "semantic" / "superset_metrics.json"),
        )
    )


def bundle_dir(env: Mapping[str, str] = os.environ) -> Path:
    return opslake_home(env) / "superset" / "bundle"


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------
def render_value(value: Any, values: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise ProvisionError(f"{where}: unknown placeholder ${{{name}}}")
            return values[name]

        return PLACEHOLDER.sub(sub, value)
    if isinstance(value, list):
        return [render_value(v, values, where) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, values, where) for k, v in value.items()}
    return value


def load_generated_metrics(path: Path | None) -> dict[str, list[dict[str, Any]]]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProvisionError(f"cannot read generated metrics {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise ProvisionError(f'{path}: expected {{"schema.table": [metric, ...]}}')
    for key, metrics in data.items():
        for metric in metrics:
            if not isinstance(metric, dict) or not {"metric_name", "expression"} <= set(metric):
                raise ProvisionError(
                    f"{path}: {key}: every metric needs metric_name and expression"
                )
    return data


def merge_metrics(
    hand_written: list[dict[str, Any]], generated: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    merged = {m["metric_name"]: m for m in hand_written}
    for metric in generated:
        base = {
            "verbose_name": None,
            "metric_type": None,
            "description": None,
            "d3format": None,
            "extra": None,
            "warning_text": None,
        }
        merged[metric["metric_name"]] = base | metric
    return list(merged.values())


def _prepare(rel: str, config: dict[str, Any], metrics: Mapping[str, list[dict[str, Any]]]) -> None:
    """Per-type conveniences, so the YAML under git stays readable."""
    if rel.startswith("charts/"):
        qc = config.get("query_context")
        if isinstance(qc, dict):
            qc = copy.deepcopy(qc)
            qc.setdefault("form_data", copy.deepcopy(config.get("params") or {}))
            config["query_context"] = json.dumps(qc, ensure_ascii=False)
    elif rel.startswith("datasets/"):
        key = f"{config.get('schema')}.{config.get('table_name')}"
        if key in metrics:
            config["metrics"] = merge_metrics(config.get("metrics") or [], metrics[key])


def render_assets(
    assets_dir: Path = ASSETS_DIR,
    values: Mapping[str, str] | None = None,
    metrics: Mapping[str, list[dict[str, Any]]] | None = None,
) -> dict[str, str]:
    """Render the tree into ``{relative path: YAML text}``, the importer's input."""
    values = variables() if values is None else values
    metrics = metrics or {}
    files = sorted(p for p in assets_dir.rglob("*") if p.suffix.lower() in YAML_SUFFIXES)
    if not files:
        raise ProvisionError(f"no YAML files under {assets_dir}")
    contents: dict[str, str] = {}
    for path in files:
        rel = path.relative_to(assets_dir).as_posix()
        try:
            config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ProvisionError(f"{path}: invalid YAML: {exc}") from exc
        config = render_value(config, values, rel)
        _prepare(rel, config, metrics)
        contents[rel] = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    if "metadata.yaml" not in contents:
        raise ProvisionError(f"{assets_dir}/metadata.yaml is missing")
    _check_uuids(contents)
    return contents


def _check_uuids(contents: Mapping[str, str]) -> None:
    seen: dict[str, str] = {}
    for rel, text in contents.items():
        if rel == "metadata.yaml":
            continue
        config = yaml.safe_load(text)
        uuid = str(config.get("uuid") or "")
        if not uuid:
            raise ProvisionError(f"{rel}: every asset needs a hand-set uuid")
        if uuid in seen:
            raise ProvisionError(f"{rel}: uuid {uuid} is also used by {seen[uuid]}")
        seen[uuid] = rel
        if rel.startswith("dashboards/"):
            for key, node in (config.get("position") or {}).items():
                is_chart = isinstance(node, dict) and node.get("type") == "CHART"
                if is_chart and not (node.get("meta") or {}).get("uuid"):
                    raise ProvisionError(f"{rel}: {key} has no meta.uuid")


def write_bundle(contents: Mapping[str, str], out_dir: Path) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    for rel, text in contents.items():
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------
# DuckDB extensions (the main app installs them; fill the gap if it has not)
# ---------------------------------------------------------------------------
def ensure_extensions(ext_dir: Path) -> None:
    import importlib.util

    import duckdb

    wanted = {"duckdb_extension_ducklake": "ducklake", "duckdb_extension_sqlite": "sqlite_scanner"}
    platform_dir = ext_dir / f"v{duckdb.__version__}"
    files = platform_dir.glob("*/*.duckdb_extension")
    present = {p.name.removesuffix(".duckdb_extension") for p in files}
    missing = [pkg for pkg, name in wanted.items() if name not in present]
    if not missing:
        return
    ext_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={"extension_directory": str(ext_dir), "autoinstall_known_extensions": False}
    )
    try:
        for package in missing:
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                raise ProvisionError(f"{package} is not installed in {sys.prefix}")
            root = Path(next(iter(spec.submodule_search_locations)))
            files = sorted(root.glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
            if not files:
                raise ProvisionError(f"{package} has no build for DuckDB {duckdb.__version__}")
            con.execute(f"INSTALL '{files[0]}'")
            print(f"installed {files[0].name} into {ext_dir}")
    finally:
        con.close()


# ---------------------------------------------------------------------------
# Superset side
# ---------------------------------------------------------------------------
@contextmanager
def superset_app() -> Iterator[Any]:
    os.environ.setdefault("SUPERSET_CONFIG_PATH", str(CONFIG_FILE))
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        yield app


def enable_wal(sqlalchemy_uri: str) -> None:
    if not sqlalchemy_uri.startswith("sqlite:///"):
        return
    path = sqlalchemy_uri.removeprefix("sqlite:///")
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA journal_mode=WAL")


def _want_demo_users() -> bool:
    return os.environ.get("OPSLAKE_SUPERSET_DEMO_USERS", "1").lower() not in {"0", "false", "no"}


def sync_security(spec_path: Path = SECURITY_FILE) -> list[str]:
    """Create/refresh roles and users from security.yaml. Returns notes."""
    from superset import db
    from superset import security_manager as sm
    from superset.models.core import Database

    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8")) or {}
    notes: list[str] = []

    for role_spec in spec.get("roles", []):
        name = role_spec["name"]
        perms: dict[tuple[str, str], Any] = {}
        base_name = role_spec.get("copy_from")
        if base_name:
            base = sm.find_role(base_name)
            if base is None:
                raise ProvisionError(f"role {base_name} missing: run `superset init` first")
            drop = set(role_spec.get("drop_permissions", []))
            keep = {tuple(k.split("|", 1)) for k in role_spec.get("keep", [])}
            for pv in base.permissions:
                key = (pv.permission.name, pv.view_menu.name)
                if key[0] not in drop or key in keep:
                    perms[key] = pv
        for db_name in role_spec.get("database_access", []):
            database = db.session.query(Database).filter_by(database_name=db_name).one_or_none()
            if database is None:
                notes.append(f"{name}: database {db_name} not provisioned yet (run assets)")
                continue
            pv = sm.find_permission_view_menu("database_access", database.perm)
            if pv is None:
                pv = sm.add_permission_view_menu("database_access", database.perm)
            perms[("database_access", database.perm)] = pv
        role = sm.find_role(name) or sm.add_role(name)
        role.permissions = list(perms.values())
        db.session.commit()
        notes.append(f"role {name}: {len(perms)} permissions")

    for user_spec in spec.get("users", []):
        if user_spec.get("demo") and not _want_demo_users():
            continue
        roles = []
        for role_name in user_spec["roles"]:
            role = sm.find_role(role_name)
            if role is None:
                raise ProvisionError(f"user {user_spec['username']}: no role {role_name}")
            roles.append(role)
        user = sm.find_user(username=user_spec["username"])
        if user is None:
            password = user_spec["password"]
            if user_spec["username"] == ADMIN:
                password = os.environ.get("OPSLAKE_SUPERSET_ADMIN_PASSWORD") or password
            user = sm.add_user(
                user_spec["username"],
                user_spec.get("first_name", user_spec["username"]),
                user_spec.get("last_name", ""),
                user_spec.get("email", f"{user_spec['username']}@opslake.local"),
                roles,
                password=password,
            )
            if not user:
                raise ProvisionError(f"could not create user {user_spec['username']}")
            notes.append(f"user {user_spec['username']}: created")
        elif {r.name for r in user.roles} != {r.name for r in roles}:
            user.roles = roles
            sm.update_user(user)
            notes.append(f"user {user_spec['username']}: roles set to {user_spec['roles']}")
    db.session.commit()
    notes.extend(sync_row_level_security(spec.get("row_level_security", [])))
    return notes


def sync_row_level_security(rules: list[dict[str, Any]]) -> list[str]:
    """Row-level security rules from security.yaml, matched by name (recomputed each time)."""
    from superset import db
    from superset import security_manager as sm
    from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable

    notes: list[str] = []
    for rule in rules:
        tables = []
        for ref in rule["datasets"]:
            schema, _, table = ref.rpartition(".")
            found = (
                db.session.query(SqlaTable)
                .filter_by(table_name=table, schema=schema or None)
                .one_or_none()
            )
            if found is not None:
                tables.append(found)
        if not tables:
            notes.append(f"rls {rule['name']}: datasets not provisioned yet (run assets)")
            continue
        roles = []
        for role_name in rule["roles"]:
            role = sm.find_role(role_name)
            if role is None:
                raise ProvisionError(f"rls {rule['name']}: no role {role_name}")
            roles.append(role)
        row = db.session.query(RowLevelSecurityFilter).filter_by(name=rule["name"]).one_or_none()
        if row is None:
            row = RowLevelSecurityFilter(name=rule["name"])
            db.session.add(row)
        row.description = rule.get("description")
        row.filter_type = rule.get("filter_type", "Regular")
        row.group_key = rule.get("group_key")
        row.clause = rule["clause"]
        row.tables = tables
        row.roles = roles
        db.session.commit()
        notes.append(f"rls {rule['name']}: {len(tables)} datasets, roles {rule['roles']}")
    return notes


def import_assets(contents: Mapping[str, str]) -> None:
    from flask import g
    from superset import security_manager as sm
    from superset.commands.exceptions import CommandInvalidError
    from superset.commands.importers.v1.assets import ImportAssetsCommand

    admin = sm.find_user(username=ADMIN)
    if admin is None:
        raise ProvisionError("no admin user: run `make superset-init` first")
    g.user = admin
    try:
        ImportAssetsCommand(dict(contents)).run()
    except CommandInvalidError as exc:
        raise ProvisionError(f"invalid assets: {exc.normalized_messages()}") from exc


def summary() -> dict[str, int]:
    from superset import db
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.core import Database
    from superset.models.dashboard import Dashboard
    from superset.models.slice import Slice

    return {
        "databases": db.session.query(Database).count(),
        "datasets": db.session.query(SqlaTable).count(),
        "charts": db.session.query(Slice).count(),
        "dashboards": db.session.query(Dashboard).count(),
    }


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------
def cmd_uri(_: argparse.Namespace) -> None:
    print(lake_sqlalchemy_uri())


def cmd_render(args: argparse.Namespace) -> dict[str, str]:
    metrics_file = Path(args.metrics_file) if args.metrics_file else default_metrics_file()
    contents = render_assets(Path(args.assets), variables(), load_generated_metrics(metrics_file))
    out = Path(args.out) if args.out else bundle_dir()
    write_bundle(contents, out)
    print(f"rendered {len(contents)} files into {out}")
    return contents


def cmd_init(_: argparse.Namespace) -> None:
    with superset_app() as app:
        enable_wal(app.config["SQLALCHEMY_DATABASE_URI"])
        for note in sync_security():
            print(note)


def cmd_assets(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    catalog, ext_dir = lake_paths()
    if not os.environ.get("OPSLAKE_SUPERSET_LAKE_URI"):
        ensure_extensions(ext_dir)
        if not catalog.exists():
            print(f"warning: no lake at {catalog} yet; charts fail until it exists")
    contents = cmd_render(args)
    with superset_app():
        import_assets(contents)
        for note in sync_security():
            print(note)
        counts = summary()
    print(f"imported {counts} in {time.perf_counter() - started:.1f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("uri", help="print the lake URI").set_defaults(func=cmd_uri)
    for name, func, text in (
        ("render", cmd_render, "render assets into the bundle directory"),
        ("assets", cmd_assets, "render and import the assets, then refresh roles"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--assets", default=str(ASSETS_DIR), help="assets tree (default %(default)s)"
        )
        p.add_argument("--out", help="bundle directory (default $OPSLAKE_HOME/superset/bundle)")
        p.add_argument("--metrics-file", help="generated metrics JSON (default: see module doc)")
        p.set_defaults(func=func)
    sub.add_parser("init", help="metadata WAL, roles and users").set_defaults(func=cmd_init)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except ProvisionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
