"""A marketplace API path into the raw zone vs DuckDB's own read_csv → Parquet.

Subject: N Tmall trade versions served by the fake TOP server (a subprocess on
127.0.0.1, so it has its own core and GIL) → the signed, paged, windowed Tmall connector
→ the lake. Baseline: the same rows (the raw table's columns, payload included) written
as CSV, read by DuckDB and written as Parquet. Both in rows/s; ratio subject/baseline.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv

from benchmarks.harness import Figure, alternate
from ingest.core import run_stream
from ingest.demo.servers import APP_KEY, APP_SECRET, SESSION
from ingest.sources.api import CST, ApiConfig, fixed
from ingest.sources.tmall import TmallTradesStream
from warehouse.lake import Lake

REPO = Path(__file__).resolve().parent.parent
START = datetime(2026, 3, 1, tzinfo=CST)
SETTLE = timedelta(minutes=10)  # past the connector's 5-minute settle
PER_DAY = 10_000  # versions per 1-day TOP window (100 pages of 100)
# windows read by this many forked processes instead of the connector's default threads
# (decisions 0024, 0025)
PROCESSES = os.environ.get("OPSLAKE_BENCH_API_PROCESSES", "")


def _trade(n: int, t: datetime) -> dict:
    tid = 3_300_000_000_000_000_000 + n
    stamp = t.strftime("%Y-%m-%d %H:%M:%S")
    line = {
        "oid": tid + 1,
        "num_iid": 600089007087,
        "sku_id": "5000009111423",
        "outer_sku_id": f"TMCLN{n % 200:04d}",
        "title": "OpsLake家居 平板拖把 带桶款",
        "sku_properties_name": "颜色分类:石墨黑;规格:带桶款",
        "num": 1 + n % 3,
        "price": "127.90",
        "total_fee": "88.90",
        "payment": "88.90",
        "discount_fee": "39.00",
        "adjust_fee": "0.00",
        "divide_order_fee": "88.90",
        "status": "TRADE_FINISHED",
        "refund_status": "NO_REFUND",
    }
    return {
        "tid": tid,
        "tid_str": str(tid),
        "status": "TRADE_FINISHED",
        "type": "fixed",
        "created": stamp,
        "modified": stamp,
        "pay_time": stamp,
        "total_fee": "177.80",
        "discount_fee": "51.00",
        "post_fee": "0.00",
        "payment": "126.80",
        "buyer_nick": "杨**",
        "buyer_open_uid": f"AAH{n:012x}",
        "seller_nick": "OpsLake家居旗舰店",
        "receiver_name": "杨晓",
        "receiver_state": "北京",
        "receiver_city": "北京",
        "receiver_district": "开发区",
        "receiver_address": f"解放路{n % 300}号",
        "receiver_mobile": "17714074653",
        "num": 2,
        "orders": {"order": [line, line | {"oid": tid + 2, "title": "OpsLake家居 调料罐组合 6格"}]},
    }


def make_data(work: Path, versions: int, chunk: int = 50_000) -> tuple[datetime, Path]:
    """Write the JSONL the fake server serves and the CSV the baseline reads (in chunks)."""
    jsonl = work / "demo" / "marketplaces" / "tmall" / "trades.jsonl"
    jsonl.parent.mkdir(parents=True)
    csv = work / "trades.csv"
    step = timedelta(seconds=86400 / PER_DAY)
    schema = pa.schema(
        [
            ("channel", pa.string()),
            ("order_id", pa.string()),
            ("modified_at", pa.timestamp("us", tz="UTC")),
            ("status", pa.string()),
            ("payload", pa.string()),
        ]
    )
    with open(jsonl, "wb") as f, pacsv.CSVWriter(csv, schema) as out:
        for first in range(0, versions, chunk):
            ids, times, payloads = [], [], []
            for n in range(first, min(versions, first + chunk)):
                # whole seconds, never on a window boundary
                t = (START + step * n + timedelta(milliseconds=500)).replace(microsecond=0)
                rec = _trade(n, t)
                text = orjson.dumps(rec)
                f.write(text + b"\n")
                ids.append(rec["tid_str"])
                times.append(t)
                payloads.append(text.decode())
            k = len(ids)
            out.write_table(
                pa.table(
                    [
                        ["tmall"] * k,
                        ids,
                        pa.array(times, schema.field(2).type),
                        ["TRADE_FINISHED"] * k,
                        payloads,
                    ],
                    schema=schema,
                )
            )
    end = START + timedelta(days=-(-versions // PER_DAY))
    return end, csv


def _reaped_cpu() -> float:
    """CPU seconds of this process's children that have ended and been waited for."""
    t = os.times()
    return t.children_user + t.children_system


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(scale: int | None, ext_dir: Path) -> Figure:
    versions = scale or 200_000
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    server = None
    try:
        end, csv = make_data(work, versions)
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ingest.demo.servers",
                "--demo-dir",
                str(work / "demo"),
                "--port",
                str(port),
            ],
            cwd=REPO,
            env=os.environ.copy(),
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{url}/_demo/info", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        counter = iter(range(10_000))
        cpu: dict[str, list[float]] = {"client": [], "readers": [], "server": []}

        def server_cpu() -> float:
            fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        def subject() -> float:
            home = work / f"lake-{next(counter)}"
            lake = Lake(home / "catalog.sqlite", home / "data", ext_dir)
            lake.init()
            api = ApiConfig(fixed(f"{url}/tmall/router/rest"), START, until=lambda: end + SETTLE)
            stream = TmallTradesStream(api, APP_KEY, APP_SECRET, SESSION)
            if PROCESSES:  # measure the forked window readers (decisions 0024, 0025)
                stream.fetch_processes = int(PROCESSES)
            client, served, reaped = time.process_time(), server_cpu(), _reaped_cpu()
            start = time.perf_counter()
            result = run_stream(lake, stream)
            elapsed = time.perf_counter() - start
            # CPU a trade of this process (DuckDB's threads included), of its window readers
            # and of the fake server, which shares the two cores (a real platform's would not)
            cpu["client"].append((time.process_time() - client) / versions * 1e6)
            # the forked window readers, reaped when the run's pool shut down
            cpu["readers"].append((_reaped_cpu() - reaped) / versions * 1e6)
            cpu["server"].append((server_cpu() - served) / versions * 1e6)
            assert result.rows_landed == versions, result
            shutil.rmtree(home)
            return versions / elapsed

        def baseline() -> float:
            out = work / f"base-{next(counter)}.parquet"
            start = time.perf_counter()
            con = duckdb.connect()
            con.execute(
                f"COPY (SELECT * FROM read_csv('{csv}', header=true)) TO '{out}' (FORMAT parquet)"
            )
            con.close()
            elapsed = time.perf_counter() - start
            out.unlink()
            return versions / elapsed

        subj, base = alternate(subject, baseline)
        return Figure(
            "ingest_api_rows_per_s",
            "rows/s",
            subj,
            base,
            goal=">= 0.5",
            scale={"order_versions": versions, "pages": -(-versions // 100)},
            higher_is_better=True,
            detail={  # the warm-up run (the server indexing its file) left out
                f"{who}_cpu_us_per_trade_median": round(statistics.median(values[1:] or values), 2)
                for who, values in cpu.items()
            },
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
