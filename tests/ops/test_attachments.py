"""Attachments: upload limits, storage by content hash, linking from records, downloads
only for the uploader and readers of a linking record (issue #6)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from apps.ops.core.config import BUILTIN_FORMS_DIR
from apps.ops.models import AttachmentLink, AuditEntry
from tests.ops.conftest import headers_for, purchase

PDF = b"%PDF-1.4\n% quotation\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
UPLOAD = "/api/v1/attachments"
FORM = "/api/v1/forms/purchase_request/records"


@pytest.fixture
def forms_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "forms"
    folder.mkdir()
    for name in ("purchase_request.yaml", "stock_adjustment.yaml"):
        shutil.copy(BUILTIN_FORMS_DIR / name, folder)
    return folder


def upload(client, headers, name: str = "报价单.pdf", content: bytes = PDF, kind: str = "x"):
    return client.post(UPLOAD, headers=headers, files={"file": (name, content, kind)})


def test_upload_stores_the_file_once_by_content_hash(client, settings):
    headers = headers_for(client, "buyer_wang")
    first = upload(client, headers)
    assert first.status_code == 201, first.text
    body = first.json()
    digest = hashlib.sha256(PDF).hexdigest()
    assert body["sha256"] == digest and body["size"] == len(PDF)
    assert body["content_type"] == "application/pdf" and body["filename"] == "报价单.pdf"
    path = settings.home / "attachments" / digest[:2] / digest
    assert path.read_bytes() == PDF
    second = upload(client, headers, name="../../etc/copy.pdf").json()
    assert second["id"] != body["id"] and second["sha256"] == digest
    assert second["filename"] == "copy.pdf"  # no directories from the client
    assert [p.name for p in path.parent.iterdir()] == [digest]
    with client.app.state.sessionmaker() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "attachment.upload")
        ).first()
        assert entry is not None and entry.after["sha256"] == digest


def test_uploader_downloads_before_linking_and_others_do_not(client):
    attachment = upload(client, headers_for(client, "buyer_wang")).json()
    url = f"{UPLOAD}/{attachment['id']}"
    response = client.get(url, headers=headers_for(client, "buyer_wang"))
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    other = client.get(url, headers=headers_for(client, "buyer_zhou"))
    assert other.status_code == 404
    assert "no attachment" in other.json()["detail"]


def test_readers_of_a_linking_record_may_download(client):
    wang = headers_for(client, "buyer_wang")
    attachment = upload(client, wang).json()
    record = client.post(
        FORM, headers=wang, json={"data": purchase("800.00", quotes=[attachment["id"]])}
    )
    assert record.status_code == 201, record.text
    assert record.json()["data"]["quotes"] == [attachment["id"]]
    with client.app.state.sessionmaker() as session:
        links = session.scalars(select(AttachmentLink)).all()
        assert [(link.attachment_id, link.field) for link in links] == [
            (attachment["id"], "quotes")
        ]
    url = f"{UPLOAD}/{attachment['id']}"
    # pm_li manages the purchasing department (scope department), fd_chen reads all
    for reader in ("pm_li", "fd_chen", "admin"):
        response = client.get(url, headers=headers_for(client, reader))
        assert response.status_code == 200, reader
        assert response.content == PDF
    info = client.get(url + "/info", headers=headers_for(client, "fd_chen")).json()
    assert info["filename"] == "报价单.pdf"
    # buyer_zhou is in the same department but may only read own purchase requests
    assert client.get(url, headers=headers_for(client, "buyer_zhou")).status_code == 404
    assert client.get(url + "/info", headers=headers_for(client, "buyer_zhou")).status_code == 404


def test_nobody_links_a_file_of_someone_else(client):
    attachment = upload(client, headers_for(client, "buyer_wang")).json()
    zhou = headers_for(client, "buyer_zhou")
    response = client.post(
        FORM, headers=zhou, json={"data": purchase("800.00", quotes=[attachment["id"]])}
    )
    assert response.status_code == 422
    assert "quotes" in response.json()["errors"]
    listing = client.get(FORM, headers=zhou).json()
    assert listing["count"] == 0
    assert client.get(f"{UPLOAD}/{attachment['id']}", headers=zhou).status_code == 404


def test_unlinking_removes_the_link(client):
    wang = headers_for(client, "buyer_wang")
    attachment = upload(client, wang).json()
    record = client.post(
        FORM, headers=wang, json={"data": purchase("800.00", quotes=[attachment["id"]])}
    ).json()
    # finance may update purchase requests; fd_chen removes the quotation
    response = client.patch(
        f"{FORM}/{record['id']}",
        headers=headers_for(client, "fd_chen"),
        json={"data": {"quotes": []}},
    )
    assert response.status_code == 200, response.text
    with client.app.state.sessionmaker() as session:
        assert session.scalars(select(AttachmentLink)).all() == []
    assert (
        client.get(f"{UPLOAD}/{attachment['id']}", headers=headers_for(client, "pm_li")).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("name", "content", "status", "phrase"),
    [
        ("tool.exe", b"MZ\x90\x00", 415, "not accepted"),
        ("fake.pdf", b"<html><script>alert(1)</script>", 415, "not accepted"),
        ("page.html", b"<html></html>", 415, ".pdf"),
        ("empty.pdf", b"", 422, "empty"),
    ],
)
def test_type_and_emptiness_are_checked(client, name, content, status, phrase):
    response = upload(client, headers_for(client, "operator"), name=name, content=content)
    assert response.status_code == status, response.text
    assert phrase in response.json()["detail"]


def test_size_limit_is_a_413_with_a_message(client, monkeypatch):
    from apps.ops.api.routes import attachments

    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 1024)
    response = upload(client, headers_for(client, "operator"), content=PDF + b"0" * 2000)
    assert response.status_code == 413
    assert "too large" in response.json()["detail"] and "1 KB" in response.json()["detail"]


def test_unknown_attachment_and_missing_file(client):
    headers = headers_for(client, "admin")
    assert client.get(f"{UPLOAD}/999999", headers=headers).status_code == 404
    assert client.post(UPLOAD, headers=headers).status_code == 422
