"""The server-rendered web UI, driven through TestClient with its cookie jar."""

from __future__ import annotations

import re

from tests.ops.conftest import csrf_of, web_login

FORM_URL = "/forms/stock_adjustment/new"
VALID_FORM = {
    "warehouse": "WH02",
    "sku": "OL-KIT-0042",
    "quantity": "-3",
    "reason": "return",
    "note": "退货 <b>破损</b>",
}


def test_pages_need_a_login(client):
    response = client.get(FORM_URL, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fforms%2Fstock_adjustment%2Fnew"
    login_page = client.get(response.headers["location"])
    assert login_page.status_code == 200
    assert '<label for="username">Username</label>' in login_page.text


def test_login_with_bad_password_shows_a_message(client):
    response = client.post("/login", data={"username": "operator", "password": "nope"})
    assert response.status_code == 400
    assert "Incorrect username or password." in response.text
    assert 'aria-invalid="true"' in response.text
    assert "opslake_session" not in client.cookies


def test_login_sets_a_session_cookie_and_redirects_to_next(client):
    response = client.post(
        "/login",
        data={"username": "operator", "password": "operator", "next": FORM_URL},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == FORM_URL
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("opslake_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie

    # after login the home page lists the forms
    home = client.get("/")
    assert home.status_code == 200
    assert '<a href="/forms/stock_adjustment/new?lang=en">Stock adjustment</a>' in home.text


def test_login_never_redirects_off_site(client):
    for target in ["//evil.example/x", "https://evil.example/", "/\\evil.example"]:
        response = client.post(
            "/login",
            data={"username": "operator", "password": "operator", "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


def test_form_renders_from_its_definition_in_both_languages(client):
    web_login(client)
    en = client.get(FORM_URL)
    assert en.status_code == 200
    assert '<html lang="en">' in en.text
    assert '<label for="field-sku">SKU <span class="req">(required)</span></label>' in en.text
    assert '<label for="field-note">Note</label>' in en.text  # optional: no marker
    assert '<option value="WH01">East China central (Jiaxing)</option>' in en.text
    assert 'name="quantity"' in en.text and 'step="1"' in en.text
    assert '<textarea id="field-note" name="note"' in en.text

    zh = client.get(FORM_URL, params={"lang": "zh-CN"})
    assert '<html lang="zh-CN">' in zh.text
    assert "<h1>库存调整</h1>" in zh.text
    assert '调整数量 <span class="req">（必填）</span>' in zh.text
    assert '<option value="return">退货入库</option>' in zh.text
    assert 'action="/forms/stock_adjustment/new?lang=zh-CN"' in zh.text
    # the language switch keeps the page
    assert 'href="/forms/stock_adjustment/new?lang=en"' in zh.text


def test_invalid_submit_shows_messages_next_to_fields_and_keeps_values(client):
    web_login(client)
    page = client.get(FORM_URL, params={"lang": "zh-CN"})
    data = {**VALID_FORM, "csrf_token": csrf_of(page.text), "quantity": "0", "sku": "bad sku"}
    response = client.post(FORM_URL, params={"lang": "zh-CN"}, data=data)
    assert response.status_code == 422
    html = response.text
    assert 'class="error-summary" role="alert"' in html
    assert '<a href="#field-quantity">调整数量不能为 0。</a>' in html
    assert '<p class="error" id="field-quantity-error">调整数量不能为 0。</p>' in html
    sku_input = re.search(r'<input type="text" id="field-sku"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in sku_input
    assert 'aria-describedby="field-sku-help field-sku-error"' in sku_input
    assert 'value="bad sku"' in sku_input
    assert '<option value="WH02" selected>' in html
    assert "退货 &lt;b&gt;破损&lt;/b&gt;</textarea>" in html  # escaped, kept


def test_valid_submit_redirects_to_the_record_page(client):
    web_login(client)
    page = client.get(FORM_URL)
    response = client.post(
        FORM_URL, data={**VALID_FORM, "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/forms/stock_adjustment/records/\d+\?saved=1&lang=en", location)

    record = client.get(location)
    assert record.status_code == 200
    assert 'role="status">Saved.</p>' in record.text
    assert "<dt>Warehouse</dt><dd>South China (Guangzhou)</dd>" in record.text
    assert "<dt>Quantity</dt><dd>-3</dd>" in record.text
    assert "<dd>退货 &lt;b&gt;破损&lt;/b&gt;</dd>" in record.text
    assert "<dt>Created by</dt><dd>operator</dd>" in record.text
    assert "</time> (Asia/Shanghai)</dd>" in record.text

    # the same record through the API
    token = client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": "admin"}
    ).json()["access_token"]
    api = client.get(
        "/api/v1/forms/stock_adjustment/records", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert api["data"][0]["data"]["quantity"] == -3
    assert api["data"][0]["created_by"] == "operator"


def test_post_without_the_csrf_token_is_refused(client):
    web_login(client)
    response = client.post(FORM_URL, data=VALID_FORM)
    assert response.status_code == 400
    assert "reload the page" in response.text


def test_unknown_form_and_record_pages_are_html_404(client):
    web_login(client)
    response = client.get("/forms/nope/new")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "There is no form named “nope”." in response.text
    assert client.get("/forms/stock_adjustment/records/999").status_code == 404
    assert client.get("/forms/stock_adjustment/records/abc").status_code == 422


def test_logout(client):
    web_login(client)
    home = client.get("/")
    response = client.post(
        "/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303
