"""Bad input to the CLI: one clear line on stderr, a non-zero exit, nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

OPSLAKE = str(Path(sys.executable).parent / "opslake")


def run(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OPSLAKE, *args],
        capture_output=True,
        text=True,
        env=os.environ | {"OPSLAKE_HOME": str(home)} | env,
        timeout=120,
    )


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["lake", "restore", "/no/such/backup"], {}, "is not an OpsLake backup"),
        (["lake", "backup", "/proc/opslake-backup"], {}, "cannot create backup folder"),
        (["demo", "generate", "--scale", "-5"], {}, "--scale must be at least 100"),
        (["ingest", "nosuchsource"], {}, "unknown source nosuchsource"),
        (["lake", "snapshots"], {"OPSLAKE_LAKE_DIR": "/proc/1/nope"}, "no lake at /proc/1/nope"),
        (["lake", "init"], {"OPSLAKE_LAKE_DIR": "/proc/opslake"}, "cannot create the lake at"),
    ],
)
def test_bad_input_gives_one_clear_line(
    lake, home: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    before = _listing(home)
    result = run(*args, home=home, **env)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert expected in lines[0] and lines[0].startswith("error:")
    assert "Traceback" not in result.stderr + result.stdout
    assert _listing(home) == before


def test_every_command_has_help(home: Path) -> None:
    for args in (
        ["--help"],
        ["demo", "generate", "--help"],
        ["lake", "backup", "--help"],
        ["ingest", "--help"],
        ["build", "--help"],
        ["services", "up", "--help"],
    ):
        result = run(*args, home=home)
        assert result.returncode == 0 and "Usage" in result.stdout, (args, result.stderr)
