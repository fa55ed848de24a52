"""The audit log: every write appended as (who, when, what, before, after), hash-chained.

Each entry's ``hash`` is sha256 over the previous entry's hash and the entry's canonical
JSON content, so editing or deleting a row breaks the chain at that row (or the next).
:func:`verify` walks the chain; ``apps/ops/cli.py`` exposes it as ``opslake audit verify``.

Appends are serialised: SQLite writes already hold the database write lock
(``BEGIN IMMEDIATE``); PostgreSQL takes a transaction-scoped advisory lock.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from apps.ops.core.db import core
from apps.ops.models import AuditEntry, utcnow

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 0x0A0D_17
# (transaction, hash of the last entry it appended): later appends in the same transaction
# skip the look-up of the head (and PostgreSQL's advisory lock, held until it ends).
_HEAD_KEY = "opslake.audit_head"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(
    prev_hash: str,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> str:
    content = _canonical(
        {
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "before": before,
            "after": after,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def _plain(value: Any) -> Any:
    # Exactly what the JSON column gives back when read (dates as text and so on).
    return None if value is None else json.loads(_canonical(value))


_AUDIT = AuditEntry.__table__
_HEAD = select(_AUDIT.c.hash).order_by(_AUDIT.c.id.desc()).limit(1)
_INSERT = insert(_AUDIT)
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=AUDIT_LOCK_KEY)


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: Any,
    before: Any = None,
    after: Any = None,
    at: datetime | None = None,
) -> str:
    """Append one entry inside the caller's (write) transaction; returns its hash.

    Written at once with a prepared Core INSERT (pending ORM changes are flushed first),
    so entries get ids in the order they were appended."""
    conn = core(session)
    transaction = session.get_nested_transaction() or session.get_transaction()
    head = session.info.get(_HEAD_KEY)
    if head is not None and transaction is not None and head[0] is transaction:
        prev = head[1]
    else:
        if conn.dialect.name == "postgresql":
            conn.execute(_PG_LOCK)
        prev = conn.execute(_HEAD).scalar()
    prev = prev or GENESIS
    values = {
        "at": at or utcnow(),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": _plain(before),
        "after": _plain(after),
    }
    digest = entry_hash(prev, **values)
    conn.execute(_INSERT, {**values, "prev_hash": prev, "hash": digest})
    session.info[_HEAD_KEY] = (transaction or session.get_transaction(), digest)
    return digest


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str | None = None

    @property
    def message(self) -> str:
        if self.ok:
            return f"audit log intact: {self.checked} entries, hash chain verified"
        return f"audit log tampered: entry {self.first_bad_id}: {self.problem}"


def verify(engine_or_url: Engine | str | URL) -> VerifyResult:
    """Walk the whole chain in id order; report the first entry that does not fit."""
    from apps.ops.core.db import make_engine

    engine = engine_or_url if isinstance(engine_or_url, Engine) else make_engine(engine_or_url)
    try:
        with Session(engine) as session:
            prev = GENESIS
            checked = 0
            query = select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
            for entry in session.scalars(query):
                if entry.prev_hash != prev:
                    return VerifyResult(
                        False,
                        checked,
                        entry.id,
                        "its previous-hash does not match the entry before it "
                        "(an entry before it was deleted or changed)",
                    )
                expected = entry_hash(
                    prev,
                    at=entry.at,
                    actor=entry.actor,
                    action=entry.action,
                    entity=entry.entity,
                    entity_id=entry.entity_id,
                    before=entry.before,
                    after=entry.after,
                )
                if expected != entry.hash:
                    return VerifyResult(
                        False, checked, entry.id, "its content does not match its hash (edited)"
                    )
                prev = entry.hash
                checked += 1
            return VerifyResult(True, checked)
    finally:
        if engine is not engine_or_url:
            engine.dispose()
