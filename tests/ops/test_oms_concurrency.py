"""100 concurrent orders for the last 10 units: exactly 10 reserved, 90 rejected with the
reason, stock never negative — on SQLite and on PostgreSQL (skipped if unreachable)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from apps.ops.core.db import make_engine, make_sessionmaker, migrate, write_transaction
from apps.ops.oms import stock
from apps.ops.oms.config import read_config
from apps.ops.oms.models import OmsAllocation, OmsOrder, OmsStock
from apps.ops.oms.service import LineIn, OmsService, OrderIn

ORDERS = 100
SKU = "OL-LAST-0001"
LAST_UNITS = {"WH01": 7, "WH02": 3}  # the last 10 units, in two warehouses


def order(i: int) -> OrderIn:
    return OrderIn(
        channel="tmall",
        external_id=f"TM{i:05d}",
        lines=[LineIn(SKU, 1, "99.00")],
        customer_name="张三",
        phone="13800138000",
        province="浙江",
        city="杭州",
        address="西湖区文三路 100 号",
    )


def test_the_last_ten_units_are_never_oversold(db_url, clock):
    migrate(db_url)
    engine = make_engine(db_url, **({"pool_size": 20} if "postgresql" in db_url else {}))
    try:
        service = OmsService(make_sessionmaker(engine), read_config(), clock.now)
        with service.make_session() as session, write_transaction(session):
            for warehouse, units in LAST_UNITS.items():
                stock.set_on_hand(session, SKU, warehouse, units, clock.now())

        lowest: list[int] = []
        done = threading.Event()

        def watch() -> None:  # reads the stock all the time the orders run
            with service.make_session() as session:
                while not done.is_set():
                    rows = session.execute(
                        select(OmsStock.on_hand, OmsStock.reserved).where(OmsStock.sku == SKU)
                    ).all()
                    lowest.append(min(on_hand - reserved for on_hand, reserved in rows))
                    session.rollback()

        watcher = threading.Thread(target=watch)
        watcher.start()
        start = threading.Barrier(20)

        def place(i: int) -> OmsOrder:
            if i < 20:
                start.wait()  # the first 20 leave at the same moment
            return service.submit(order(i))

        try:
            with ThreadPoolExecutor(max_workers=20) as pool:
                results = list(pool.map(place, range(ORDERS)))
        finally:
            done.set()
            watcher.join()

        allocated = [o for o in results if o.status == "allocated"]
        rejected = [o for o in results if o.status == "rejected"]
        assert len(allocated) == 10 and len(rejected) == 90
        assert {o.reason for o in rejected} == {f"insufficient stock: {SKU} needs 1, 0 available"}
        assert lowest and min(lowest) >= 0
        with service.make_session() as session:
            rows = {s.warehouse: s for s in session.scalars(select(OmsStock))}
            assert {w: (s.on_hand, s.reserved) for w, s in rows.items()} == {
                "WH01": (7, 7),
                "WH02": (3, 3),
            }
            held = session.scalars(select(OmsAllocation)).all()
            assert sum(a.quantity for a in held) == 10
            assert len({a.order_id for a in held}) == 10
    finally:
        engine.dispose()
