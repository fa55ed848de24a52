"""Languages and messages of the ops app (zh-CN and English).

Errors carry a message code and parameters; they are turned into text only when a response
is written, in the language the client asked for (``?lang=`` or ``Accept-Language``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

SUPPORTED_LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "en"

MESSAGES: dict[str, dict[str, str]] = {
    # field validation ({label} is the field's label in the same language)
    "field.required": {"en": "{label} is required.", "zh-CN": "请填写{label}。"},
    "field.required_choice": {
        "en": "{label} is required; choose one of the options.",
        "zh-CN": "请选择{label}。",
    },
    "field.not_text": {"en": "{label} must be text.", "zh-CN": "{label}必须是文本。"},
    "field.too_short": {
        "en": "{label} must be at least {min_length} characters long.",
        "zh-CN": "{label}至少需要 {min_length} 个字符。",
    },
    "field.too_long": {
        "en": "{label} must be at most {max_length} characters long.",
        "zh-CN": "{label}最多 {max_length} 个字符。",
    },
    "field.pattern": {
        "en": "{label} is not in the expected format.",
        "zh-CN": "{label}的格式不正确。",
    },
    "field.not_number": {"en": "{label} must be a number.", "zh-CN": "{label}必须是数字。"},
    "field.not_integer": {
        "en": "{label} must be a whole number.",
        "zh-CN": "{label}必须是整数。",
    },
    "field.zero": {"en": "{label} must not be zero.", "zh-CN": "{label}不能为 0。"},
    "field.too_small": {
        "en": "{label} must be at least {min}.",
        "zh-CN": "{label}不能小于 {min}。",
    },
    "field.too_large": {
        "en": "{label} must be at most {max}.",
        "zh-CN": "{label}不能大于 {max}。",
    },
    "field.invalid_choice": {
        "en": "{label} must be one of: {choices}.",
        "zh-CN": "{label}只能是以下之一：{choices}。",
    },
    "field.unknown": {
        "en": "This form has no field named “{name}”.",
        "zh-CN": "此表单没有名为“{name}”的字段。",
    },
    # request-level errors
    "error.validation": {
        "en": "Some fields are not valid: {fields}.",
        "zh-CN": "以下字段填写有误：{fields}。",
    },
    "error.request": {
        "en": "The request is not valid: {fields}.",
        "zh-CN": "请求无效：{fields}。",
    },
    "error.form_not_found": {
        "en": "There is no form named “{name}”.",
        "zh-CN": "没有名为“{name}”的表单。",
    },
    "error.form_version_not_found": {
        "en": "Form “{name}” has no version {version}.",
        "zh-CN": "表单“{name}”没有第 {version} 版。",
    },
    "error.record_not_found": {
        "en": "Form “{name}” has no record {record_id}.",
        "zh-CN": "表单“{name}”中没有编号为 {record_id} 的记录。",
    },
    "error.bad_credentials": {
        "en": "Incorrect username or password.",
        "zh-CN": "用户名或密码不正确。",
    },
    "error.not_authenticated": {
        "en": "Log in first: send a bearer token from /api/v1/auth/token.",
        "zh-CN": "请先登录：携带从 /api/v1/auth/token 获取的令牌。",
    },
    "error.token_invalid": {
        "en": "Your login has expired or is not valid; log in again.",
        "zh-CN": "登录已过期或无效，请重新登录。",
    },
    "error.csrf": {
        "en": "This form has expired; reload the page and submit again.",
        "zh-CN": "表单已过期，请刷新页面后重新提交。",
    },
    "error.not_found": {"en": "Page not found.", "zh-CN": "页面不存在。"},
    "error.internal": {
        "en": "Something went wrong on our side; the error has been logged.",
        "zh-CN": "服务器出错，错误已记录。",
    },
    "error.forbidden": {
        "en": "You are not allowed to do this.",
        "zh-CN": "您没有执行此操作的权限。",
    },
    "error.field_forbidden": {
        "en": "You may not change these fields: {fields}.",
        "zh-CN": "您无权修改以下字段：{fields}。",
    },
    "error.conflict": {"en": "This conflicts with the current state.", "zh-CN": "与当前状态冲突。"},
    "error.flow_not_found": {"en": "There is no flow {name!r}.", "zh-CN": "流程 {name} 不存在。"},
    "error.task_not_found": {
        "en": "There is no task {task_id}.",
        "zh-CN": "待办 {task_id} 不存在。",
    },
    "error.instance_not_found": {
        "en": "There is no flow instance {instance_id}.",
        "zh-CN": "流程实例 {instance_id} 不存在。",
    },
    "error.task_not_pending": {
        "en": "Task {task_id} has already been handled ({status}).",
        "zh-CN": "待办 {task_id} 已被处理（{status}）。",
    },
    "error.flow_state": {"en": "{reason}", "zh-CN": "{reason}"},
    "error.no_assignee": {
        "en": "Nobody can be found to handle step {node!r} of flow {flow!r}.",
        "zh-CN": "找不到处理流程 {flow} 中步骤 {node} 的人员。",
    },
    "error.too_many_attempts": {
        "en": "Too many failed logins; try again in {seconds} seconds.",
        "zh-CN": "登录失败次数过多，请 {seconds} 秒后再试。",
    },
    "error.bad_filter": {
        "en": "Filter {value!r} is not understood; write field:operator:value"
        " with one of {operators}.",
        "zh-CN": "无法识别筛选条件 {value}；格式为 字段:运算符:值，运算符为 {operators}。",
    },
    "error.bad_sort": {"en": "Cannot sort by {value!r}.", "zh-CN": "无法按 {value} 排序。"},
    "error.import_file": {"en": "{reason}", "zh-CN": "{reason}"},
    "error.file_too_large": {
        "en": "The file is too large ({size}); at most {limit} is accepted.",
        "zh-CN": "文件过大（{size}），最多接受 {limit}。",
    },
    "error.file_empty": {"en": "The file is empty.", "zh-CN": "文件是空的。"},
    "error.metric_query": {"en": "{reason}", "zh-CN": "{reason}"},
    "error.lake_unavailable": {
        "en": "The metrics cannot be served yet: {reason}",
        "zh-CN": "暂时无法提供指标：{reason}",
    },
    "error.store_busy": {
        "en": "The database is busy with another change; please try again in a moment.",
        "zh-CN": "数据库正忙于处理其他更改，请稍后重试。",
    },
    "error.import_unreadable": {
        "en": "The file cannot be read as an Excel workbook (.xlsx) or a CSV file ({reason}).",
        "zh-CN": "无法将文件读取为 Excel 工作簿（.xlsx）或 CSV 文件（{reason}）。",
    },
    "error.import_encoding": {
        "en": "The CSV file is neither UTF-8 nor GBK text; save it as “CSV UTF-8”.",
        "zh-CN": "CSV 文件既不是 UTF-8 也不是 GBK 编码，请另存为“CSV UTF-8”。",
    },
    "error.import_empty": {
        "en": "The file has no header row with the field names.",
        "zh-CN": "文件没有包含字段名的表头行。",
    },
    "error.import_columns": {
        "en": "These columns are not fields of the form: {columns}. Use the field names or "
        "labels as the header: {known}.",
        "zh-CN": "以下列不是此表单的字段：{columns}。表头请使用字段名或字段标签：{known}。",
    },
    "error.import_duplicate_columns": {
        "en": "These columns name the same field twice: {columns}.",
        "zh-CN": "以下列重复对应同一字段：{columns}。",
    },
    "error.import_too_many_rows": {
        "en": "The file has more than {limit} data rows; split it into smaller files.",
        "zh-CN": "文件超过 {limit} 行数据，请拆分为多个较小的文件。",
    },
    "error.import_rejected": {
        "en": "Nothing was imported: {bad} of {total} rows are not valid (see “rejected”).",
        "zh-CN": "未导入任何数据：{total} 行中有 {bad} 行无效（见 rejected）。",
    },
    "error.attachment_type": {
        "en": "Files of type {content_type} are not accepted; allowed: {allowed}.",
        "zh-CN": "不接受 {content_type} 类型的文件；允许：{allowed}。",
    },
    "error.attachment_not_found": {
        "en": "There is no attachment {attachment_id} (or you may not see it).",
        "zh-CN": "附件 {attachment_id} 不存在（或您无权查看）。",
    },
    "field.too_few": {
        "en": "{label} needs at least {min} entries.",
        "zh-CN": "{label}至少需要 {min} 项。",
    },
    "field.too_many": {
        "en": "{label} allows at most {max} entries.",
        "zh-CN": "{label}最多 {max} 项。",
    },
    "field.too_precise": {
        "en": "{label} allows at most {scale} decimal places.",
        "zh-CN": "{label}最多 {scale} 位小数。",
    },
    "field.not_date": {
        "en": "{label} must be a date (YYYY-MM-DD) or date-time (ISO 8601).",
        "zh-CN": "{label}必须是日期（YYYY-MM-DD）或日期时间（ISO 8601）。",
    },
    "field.no_timezone": {
        "en": "{label} needs a time zone (e.g. +08:00).",
        "zh-CN": "{label}需要带时区（例如 +08:00）。",
    },
    "field.not_reference": {
        "en": "{label} is not a valid reference.",
        "zh-CN": "{label}不是有效的引用。",
    },
    "field.not_attachment": {
        "en": "{label} must be a list of attachment ids.",
        "zh-CN": "{label}必须是附件编号列表。",
    },
    "field.not_table": {
        "en": "{label} must be a list of rows (objects).",
        "zh-CN": "{label}必须是明细行（对象）的列表。",
    },
    "field.not_unique": {
        "en": "{label}: another record already has this value.",
        "zh-CN": "{label}已存在相同的值。",
    },
    "field.no_such_user": {
        "en": "{label}: there is no user {value!r}.",
        "zh-CN": "{label}：用户 {value} 不存在。",
    },
    "field.no_such_department": {
        "en": "{label}: there is no department {value!r}.",
        "zh-CN": "{label}：部门 {value} 不存在。",
    },
    "field.no_such_attachment": {
        "en": "{label}: there is no attachment {value}.",
        "zh-CN": "{label}：附件 {value} 不存在。",
    },
    "field.no_such_record": {
        "en": "{label}: there is no record {value}.",
        "zh-CN": "{label}：记录 {value} 不存在。",
    },
    "field.no_such_master": {
        "en": "{label}: {value!r} is not in the master data.",
        "zh-CN": "{label}：主数据中没有 {value}。",
    },
    "field.master_unavailable": {
        "en": "{label} cannot be checked right now (master data unavailable).",
        "zh-CN": "{label}暂时无法校验（主数据不可用）。",
    },
    "field.check": {"en": "{label} is not valid.", "zh-CN": "{label}无效。"},
    "field.read_only": {"en": "You may not set {label}.", "zh-CN": "您无权填写{label}。"},
    "status.in_approval": {"en": "In approval", "zh-CN": "审批中"},
    "status.approved": {"en": "Approved", "zh-CN": "已通过"},
    "status.rejected": {"en": "Rejected", "zh-CN": "已驳回"},
    "status.withdrawn": {"en": "Withdrawn", "zh-CN": "已撤回"},
    # request fields (pydantic errors we phrase ourselves)
    "request.missing": {"en": "This value is required.", "zh-CN": "缺少此项。"},
    "request.json_invalid": {
        "en": "The request body is not valid JSON.",
        "zh-CN": "请求内容不是有效的 JSON。",
    },
    "request.not_object": {
        "en": "This must be a JSON object.",
        "zh-CN": "此项必须是 JSON 对象。",
    },
    # web UI
    "ui.app_name": {"en": "OpsLake", "zh-CN": "OpsLake"},
    "ui.login": {"en": "Log in", "zh-CN": "登录"},
    "ui.logout": {"en": "Log out", "zh-CN": "退出"},
    "ui.username": {"en": "Username", "zh-CN": "用户名"},
    "ui.password": {"en": "Password", "zh-CN": "密码"},
    "ui.forms": {"en": "Forms", "zh-CN": "表单"},
    "ui.no_forms": {"en": "No forms are defined yet.", "zh-CN": "还没有定义任何表单。"},
    "ui.new_record": {"en": "New record", "zh-CN": "新建记录"},
    "ui.submit": {"en": "Submit", "zh-CN": "提交"},
    "ui.required": {"en": "(required)", "zh-CN": "（必填）"},
    "status.submitted": {"en": "Submitted", "zh-CN": "已提交"},
    "ui.choose": {"en": "— Choose —", "zh-CN": "— 请选择 —"},
    "ui.fix_errors": {
        "en": "Please correct the following:",
        "zh-CN": "请更正以下内容：",
    },
    "ui.record": {"en": "Record", "zh-CN": "记录"},
    "ui.saved": {"en": "Saved.", "zh-CN": "已保存。"},
    "ui.status": {"en": "Status", "zh-CN": "状态"},
    "ui.created_by": {"en": "Created by", "zh-CN": "创建人"},
    "ui.created_at": {"en": "Created at", "zh-CN": "创建时间"},
    "ui.form_version": {"en": "Form version", "zh-CN": "表单版本"},
    "ui.language": {"en": "Language", "zh-CN": "语言"},
    "ui.home": {"en": "Home", "zh-CN": "首页"},
    "ui.signed_in_as": {"en": "Signed in as", "zh-CN": "当前用户"},
    "ui.main_nav": {"en": "Main", "zh-CN": "主导航"},
    "ui.skip": {"en": "Skip to content", "zh-CN": "跳到正文"},
}

LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}


def normalize_language(value: str | None) -> str | None:
    """Map ``zh``, ``zh-cn``, ``zh_Hans``, ``en-US`` … to a supported language, else None."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


def negotiate_language(request: Request) -> str:
    """``?lang=`` wins, then the first supported language of ``Accept-Language``."""
    chosen = normalize_language(request.query_params.get("lang"))
    if chosen:
        return chosen
    header = request.headers.get("accept-language", "")
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        language = normalize_language(tag)
        if language and weight > 0:
            ranked.append((-weight, position, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def localize(text: Mapping[str, str] | str | None, lang: str) -> str:
    """Pick the text of ``lang`` from a ``{"zh-CN": …, "en": …}`` label, falling back to
    English and then to any language present."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(lang) or text.get(DEFAULT_LANGUAGE) or next(iter(text.values()), "")


def translate(code: str, lang: str, /, **params: Any) -> str:
    entry = MESSAGES.get(code)
    if entry is None:
        return code
    return localize(entry, lang).format(**params)


def list_separator(lang: str) -> str:
    return "、" if lang == "zh-CN" else ", "


def status_label(status: str, lang: str) -> str:
    """A record status in words (unknown statuses are shown as they are)."""
    code = f"status.{status}"
    return translate(code, lang) if code in MESSAGES else status
