"""`python -m ingest.demo.servers --demo-dir DIR --port 8900`: the fake APIs as a service."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from .app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ingest.demo.servers", description=__doc__)
    parser.add_argument("--demo-dir", type=Path, required=True, help="generator output folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--token-ttl", type=float, default=7200.0, help="access token lifetime (s)")
    args = parser.parse_args()
    if not args.demo_dir.is_dir():
        parser.error(f"{args.demo_dir} is not a folder (run `opslake demo generate` first)")
    app = create_app(args.demo_dir, args.token_ttl)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
