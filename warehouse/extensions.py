"""Offline DuckDB extensions.

DuckDB must never download an extension at run time (no internet here, nor on many
customer networks). The ``duckdb-extension-*`` wheels pinned in pyproject ship the
binaries; we install them into a project-local extension directory once and turn
auto-install off everywhere.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb

# wheel package -> extension name as DuckDB knows it once installed
WHEELS = {
    "duckdb_extension_ducklake": "ducklake",
    "duckdb_extension_sqlite": "sqlite_scanner",
    "duckdb_extension_postgres": "postgres_scanner",
}


class ExtensionError(RuntimeError):
    pass


def _wheel_file(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(f"Python package {package} is missing: run `make setup`")
    root = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(root.glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
    if not files:
        raise ExtensionError(
            f"{package} has no extension built for DuckDB {duckdb.__version__}; "
            "pin the wheel to the same version as duckdb"
        )
    return files[0]


def base_config(extension_dir: Path) -> dict[str, object]:
    """Connection config that never reaches for the network."""
    return {
        "extension_directory": str(extension_dir),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    }


def ensure_extensions(extension_dir: Path) -> None:
    """Install the wheel-shipped extensions into ``extension_dir`` unless already there."""
    platform_dir = extension_dir / f"v{duckdb.__version__}"
    wanted = set(WHEELS.values())
    present = {
        p.name.removesuffix(".duckdb_extension") for p in platform_dir.glob("*/*.duckdb_extension")
    }
    if wanted <= present:
        return
    extension_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config=base_config(extension_dir))
    try:
        for package in WHEELS:
            con.execute(f"INSTALL '{_wheel_file(package)}'")
    finally:
        con.close()
