"""Typed errors of the ops app. One root (:class:`OpsError`); each error knows its HTTP
status and a message code, translated when the response is written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.ops.core.i18n import list_separator, localize, translate


class OpsError(Exception):
    status_code = 400
    code = "error.request"

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        return translate(self.code, lang, **self.params)


class NotFoundError(OpsError):
    status_code = 404


class FormNotFoundError(NotFoundError):
    code = "error.form_not_found"


class FormVersionNotFoundError(NotFoundError):
    code = "error.form_version_not_found"


class RecordNotFoundError(NotFoundError):
    code = "error.record_not_found"


class AuthenticationError(OpsError):
    status_code = 401
    code = "error.not_authenticated"


class InvalidTokenError(AuthenticationError):
    code = "error.token_invalid"


class BadCredentialsError(OpsError):
    # RFC 6749 §5.2: a wrong password at the token endpoint is 400 invalid_grant.
    status_code = 400
    code = "error.bad_credentials"


class CsrfError(OpsError):
    """A web form was posted without the token of the current session."""

    status_code = 400
    code = "error.csrf"


class DefinitionError(OpsError):
    """A form definition file is not valid (raised at startup, names the file)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        Exception.__init__(self, f"{source}: " + "; ".join(problems))
        self.params = {}

    def message(self, lang: str) -> str:
        return str(self)


class FieldError:
    """One problem with one field: a message code plus its parameters."""

    __slots__ = ("code", "params")

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params

    def message(self, lang: str, label: str) -> str:
        custom = self.params.get("message")
        if isinstance(custom, Mapping):  # e.g. the pattern_message of a definition
            return localize(custom, lang)
        return translate(self.code, lang, label=label, **self.params)

    def __repr__(self) -> str:
        return f"FieldError({self.code!r}, {self.params!r})"


class FormValidationError(OpsError):
    """Submitted data does not satisfy the form definition; one error per field."""

    status_code = 422
    code = "error.validation"

    def __init__(self, errors: dict[str, FieldError], labels: Mapping[str, Mapping[str, str]]):
        self.errors = errors
        self.labels = labels  # field name -> localized label (unknown fields: absent)
        Exception.__init__(self, f"invalid fields: {', '.join(errors)}")
        self.params = {}

    def label(self, field: str, lang: str) -> str:
        return localize(self.labels.get(field), lang) or field

    def field_messages(self, lang: str) -> dict[str, str]:
        return {
            name: error.message(lang, self.label(name, lang)) for name, error in self.errors.items()
        }

    def message(self, lang: str) -> str:
        names = list_separator(lang).join(self.label(name, lang) for name in self.errors)
        return translate(self.code, lang, fields=names)


class ForbiddenError(OpsError):
    status_code = 403
    code = "error.forbidden"


class FieldPermissionError(FormValidationError):
    """Values sent for fields the user may not write."""

    status_code = 403
    code = "error.field_forbidden"

    def message(self, lang: str) -> str:
        names = list_separator(lang).join(self.label(name, lang) for name in self.errors)
        return translate(self.code, lang, fields=names)


class ConflictError(OpsError):
    status_code = 409
    code = "error.conflict"


class FlowNotFoundError(NotFoundError):
    code = "error.flow_not_found"


class TaskNotFoundError(NotFoundError):
    code = "error.task_not_found"


class InstanceNotFoundError(NotFoundError):
    code = "error.instance_not_found"


class TaskNotPendingError(ConflictError):
    """The task was decided already (by someone else, or a concurrent request)."""

    code = "error.task_not_pending"


class FlowStateError(ConflictError):
    code = "error.flow_state"


class NoAssigneeError(OpsError):
    status_code = 422
    code = "error.no_assignee"


class TooManyAttemptsError(OpsError):
    status_code = 429
    code = "error.too_many_attempts"


class ImportFileError(OpsError):
    status_code = 422
    code = "error.import_file"


class BadFilterError(OpsError):
    status_code = 422
    code = "error.bad_filter"


class BadSortError(OpsError):
    status_code = 422
    code = "error.bad_sort"


# import and attachments (issue #6) ----------------------------------------------------------


class FileTooLargeError(OpsError):
    status_code = 413
    code = "error.file_too_large"


class EmptyFileError(OpsError):
    status_code = 422
    code = "error.file_empty"


class ImportUnreadableError(ImportFileError):
    code = "error.import_unreadable"


class ImportEncodingError(ImportFileError):
    code = "error.import_encoding"


class ImportEmptyError(ImportFileError):
    code = "error.import_empty"


class ImportColumnsError(ImportFileError):
    code = "error.import_columns"


class ImportDuplicateColumnsError(ImportFileError):
    code = "error.import_duplicate_columns"


class ImportTooManyRowsError(ImportFileError):
    code = "error.import_too_many_rows"


class AttachmentTypeError(OpsError):
    status_code = 415
    code = "error.attachment_type"


class AttachmentNotFoundError(NotFoundError):
    code = "error.attachment_not_found"


class StoreBusyError(OpsError):
    """Another write held the app store longer than the wait limit."""

    status_code = 503
    code = "error.store_busy"


class MetricQueryError(OpsError):
    """A metric query the semantic layer cannot serve (unknown metric, bad group-by …)."""

    status_code = 422
    code = "error.metric_query"


class LakeUnavailableError(OpsError):
    """No lake (or no semantic manifest) to answer metric queries from yet."""

    status_code = 503
    code = "error.lake_unavailable"
