from __future__ import annotations

import threading

from sqlalchemy import func, select

from apps.ops.core.db import make_engine, make_sessionmaker
from apps.ops.crud import create_record, get_user_by_username
from apps.ops.main import bootstrap
from apps.ops.models import FormRecord
from tests.ops.conftest import VALID_DATA


def test_concurrent_submits_on_sqlite_all_succeed(settings):
    """Each request reads (authentication) before it writes; on SQLite a deferred transaction
    would then fail with "database is locked" when another writer got in between."""
    engine = make_engine(settings.app_db)
    bootstrap(engine, settings)
    sessions = make_sessionmaker(engine)
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        for i in range(8):
            with sessions() as session:
                get_user_by_username(session=session, username="operator")
                try:
                    create_record(
                        session=session,
                        form_name="stock_adjustment",
                        data={**VALID_DATA, "quantity": n * 100 + i + 1},
                        created_by="operator",
                    )
                except BaseException as exc:  # collected and asserted below
                    failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(FormRecord)) == 32
    finally:
        engine.dispose()
