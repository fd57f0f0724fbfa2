"""The timeline's wording: each entry as a sentence in the reader's language, and each change as
"label: old → new" with the fields' labels, the codes' labels, dates in the reader's format and
people and organisations by name (DESIGN.md §6). The names of a page cost one query."""

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from django.apps import apps
from django.db import connection, models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from casework import reasons
from casework.choices import ConsentPurpose, Difficulty, Domain
from casework.instruments import instruments, label, level_label
from casework.models import CaseStatus
from partners.catalogue import packet_fields
from partners.models import Organization, Service, User

from .history import visible_fields

# Labels of the fields whose model names them only in English (the field's own name).
FIELD_LABELS = {
    "added_at": gettext_lazy("추가 일시"),
    "removed_at": gettext_lazy("제외 일시"),
    "case": gettext_lazy("사례"),
    "user": gettext_lazy("구성원"),
    "added_by": gettext_lazy("추가한 사람"),
    "since": gettext_lazy("참여 시작 일시"),
    "until": gettext_lazy("참여 종료 일시"),
    "organization": gettext_lazy("기관"),
    "submitted_at": gettext_lazy("승인 요청 일시"),
    "approved_at": gettext_lazy("승인 일시"),
    "created_by": gettext_lazy("작성자"),
    "approved_by": gettext_lazy("승인자"),
    "recorded_by": gettext_lazy("기록한 사람"),
    "decided_at": gettext_lazy("결정 일시"),
    "meeting": gettext_lazy("회의"),
    "decided_by": gettext_lazy("결정한 사람"),
    "assessed_at": gettext_lazy("평가 일시"),
    "assessed_by": gettext_lazy("평가한 사람"),
    "author": gettext_lazy("작성자"),
    "amends": gettext_lazy("정정 대상 기록"),
}
# Lists of codes, by field name, and the choices that label them.
CODE_LISTS = {
    "difficulties": Difficulty,
    "domains": Domain,
    "requested_domains": Domain,
    "purposes": ConsentPurpose,
}
# Foreign keys shown by the name of what they point to (one query for a page's names).
NAMED = {User: "user", Organization: "organization", Service: "service"}

SENTENCES = {
    ("case", "created"): gettext_lazy("사례를 열었습니다."),
    ("case", "changed"): gettext_lazy("사례 정보를 바꿨습니다."),
    ("case", "deleted"): gettext_lazy("사례를 삭제했습니다."),
    ("team", "created"): gettext_lazy("사례 팀에 %(member)s 님을 추가했습니다 (%(role)s)."),
    ("team", "changed"): gettext_lazy("사례 팀 %(member)s 님의 정보를 바꿨습니다 (%(role)s)."),
    ("team", "deleted"): gettext_lazy("사례 팀에서 %(member)s 님을 뺐습니다 (%(role)s)."),
    ("participant", "created"): gettext_lazy("참여 기관을 추가했습니다: %(organization)s"),
    ("participant", "changed"): gettext_lazy("참여 기관 정보를 바꿨습니다: %(organization)s"),
    ("participant", "deleted"): gettext_lazy("참여 기관을 뺐습니다: %(organization)s"),
    ("plan", "created"): gettext_lazy("%(sequence)s차 지원 계획을 만들었습니다."),
    ("plan", "changed"): gettext_lazy("%(sequence)s차 지원 계획을 바꿨습니다."),
    ("plan", "deleted"): gettext_lazy("%(sequence)s차 지원 계획을 삭제했습니다."),
    ("consent", "created"): gettext_lazy("%(subject)s 동의를 기록했습니다."),
    ("consent", "changed"): gettext_lazy("%(subject)s 동의 기록을 바꿨습니다."),
    ("consent", "deleted"): gettext_lazy("%(subject)s 동의 기록을 삭제했습니다."),
    ("decision", "created"): gettext_lazy("결정을 기록했습니다: %(decision)s"),
    ("decision", "changed"): gettext_lazy("결정 기록을 바꿨습니다."),
    ("decision", "deleted"): gettext_lazy("결정 기록을 삭제했습니다."),
    ("assessment", "created"): gettext_lazy(
        "평가를 기록했습니다: %(instrument)s %(score)s점 (%(level)s)"
    ),
    ("assessment", "changed"): gettext_lazy("평가 기록을 바꿨습니다."),
    ("assessment", "deleted"): gettext_lazy("평가 기록을 삭제했습니다."),
    ("note", "created"): gettext_lazy("%(kind)s 기록을 남겼습니다."),
    ("note", "changed"): gettext_lazy("기록을 바꿨습니다."),
    ("note", "deleted"): gettext_lazy("기록을 삭제했습니다."),
}
CASE_STATUS_CHANGED = gettext_lazy("사례 상태를 바꿨습니다.")
TEAM_MEMBER_REMOVED = gettext_lazy("사례 팀에서 %(member)s 님을 뺐습니다 (%(role)s).")
REFERRAL_SENTENCES = {
    "draft": gettext_lazy("%(kind)s: 작성 중입니다."),
    "sent": gettext_lazy("%(kind)s: %(organization)s에 보냈습니다."),
    "received": gettext_lazy("%(kind)s: 받는 기관이 접수했습니다."),
    "accepted": gettext_lazy("%(kind)s: 받는 기관이 수락했습니다."),
    "in_progress": gettext_lazy("%(kind)s: 지원을 시작했습니다."),
    "completed": gettext_lazy("%(kind)s: 지원을 마쳤습니다."),
    "declined": gettext_lazy("%(kind)s: 받는 기관이 거절했습니다."),
    "cancelled": gettext_lazy("%(kind)s: 의뢰를 취소했습니다."),
}
REFERRAL_OTHER = gettext_lazy("%(kind)s: 상태가 %(status)s입니다.")
# The reason a referral event records, by its status.
REFERRAL_REASONS = {"declined": "decline_reason", "cancelled": "cancel_reason"}


@dataclass(frozen=True)
class FieldInfo:
    label: str
    kind: str  # choice, codes, packet, recipients, text_list, date, datetime, bool, named, record,
    # instrument, level, plain
    choices: dict


def _kind(field) -> tuple[str, dict]:
    if field.name in CODE_LISTS:
        return "codes", {v: str(lbl) for v, lbl in CODE_LISTS[field.name].choices}
    if field.name == "shared_fields":
        return "packet", {}
    if field.name == "recipients":
        return "recipients", {}
    if field.name == "instrument":
        return "instrument", {}
    if field.model.__name__ == "Assessment" and field.name == "level":
        return "level", {}
    if field.is_relation:
        return ("named" if field.related_model in NAMED else "record"), {}
    if field.choices:
        return "choice", {v: str(lbl) for v, lbl in field.choices}
    if isinstance(field, models.JSONField):
        return "text_list", {}
    if isinstance(field, models.DateTimeField):
        return "datetime", {}
    if isinstance(field, models.DateField):
        return "date", {}
    if isinstance(field, models.BooleanField):
        return "bool", {}
    return "plain", {}


def _label(field) -> str:
    own = str(field.verbose_name)
    if field.name in FIELD_LABELS and own == field.name.replace("_", " "):
        return str(FIELD_LABELS[field.name])
    return own


@lru_cache
def field_infos(model_name: str, language: str) -> dict[str, FieldInfo]:
    """The label and kind of each field a diff of `model_name` shows, in `language`."""
    model = apps.get_model("casework", model_name)
    infos = {}
    for _column, name, _attname in visible_fields(model_name):
        field = model._meta.get_field(name)
        kind, choices = _kind(field)
        infos[name] = FieldInfo(_label(field), kind, choices)
    return infos


def _uuid(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


def wanted_names(model_name: str, record: dict | None, changes) -> set[str]:
    """The ids of people, organisations and services an entry names."""
    infos = field_infos(model_name, get_language() or "ko")
    values = []
    for change in changes:
        info = infos.get(change["field"])
        if info and info.kind == "named":
            values += [change["old"], change["new"]]
        elif info and info.kind == "recipients":
            values += [*(change["old"] or []), *(change["new"] or [])]
    if record:
        values += [record.get("organization_id"), record.get("to_organization_id")]
        if model_name == "CaseMember":  # a team entry names its member (the team is shown)
            values.append(record.get("user_id"))
    return {pk for pk in map(_uuid, values) if pk}


def names_of(ids: set[str]) -> dict[str, str]:
    """The names of the people, organisations and services `ids` name, in one query (none
    without ids)."""
    if not ids:
        return {}
    people = User._meta.db_table
    sql = (
        f"SELECT id::text, COALESCE(NULLIF(name, ''), username) FROM {people} "
        "WHERE id = ANY(%s::uuid[]) UNION ALL "
        f"SELECT id::text, name FROM {Organization._meta.db_table} WHERE id = ANY(%s::uuid[]) "
        f"UNION ALL SELECT id::text, name FROM {Service._meta.db_table} WHERE id = ANY(%s::uuid[])"
    )
    wanted = sorted(ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, [wanted, wanted, wanted])
        return dict(cursor.fetchall())


def _joined(labels) -> str:
    return _("、").join(labels) if labels else _("없음")


def _moment(value) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "DATETIME_FORMAT")


def value_text(info: FieldInfo, value, names: dict, record: dict | None = None) -> str:
    """A field's value as the reader reads it: labels for codes, names for ids, dates in the
    reader's format, "없음" for nothing."""
    if value is None or value == "" or value == []:
        return _("없음")
    kind = info.kind
    if kind in ("codes", "packet", "recipients") and not isinstance(value, list):
        value = [value]
    try:
        if kind == "choice":
            return info.choices.get(value, str(value))
        if kind == "codes":
            return _joined([info.choices.get(v, str(v)) for v in value])
        if kind == "packet":
            fields = packet_fields()
            return _joined([fields[v].label if v in fields else str(v) for v in value])
        if kind == "recipients":
            return _joined([names.get(_uuid(v) or "", str(v)) for v in value])
        if kind == "text_list":
            return _joined([str(v) for v in value]) if isinstance(value, list) else str(value)
        if kind == "date":
            day = date.fromisoformat(value) if isinstance(value, str) else value
            return date_format(day, "DATE_FORMAT")
        if kind == "datetime":
            return _moment(value)
        if kind == "bool":
            return _("예") if value else _("아니요")
        if kind == "named":
            return names.get(_uuid(value) or "", _("알 수 없음"))
        if kind == "record":
            return _("지정됨")
        if kind == "instrument":
            definition = instruments().get(value)
            return label(definition["title"]) if definition else str(value)
        if kind == "level":
            return level_label((record or {}).get("instrument", ""), value)
    except (TypeError, ValueError, KeyError):
        pass
    return str(value)


def change_lines(model_name: str, changes, names: dict, record: dict | None) -> list[dict]:
    """Each change as {label, old, new}, in the reader's words."""
    infos = field_infos(model_name, get_language() or "ko")
    lines = []
    for change in changes:
        info = infos.get(change["field"]) or FieldInfo(change["field"], "plain", {})
        lines.append(
            {
                "label": info.label,
                "old": value_text(info, change["old"], names, record),
                "new": value_text(info, change["new"], names, record),
            }
        )
    return lines


def _code(model_name: str, name: str, record: dict, names: dict) -> str:
    info = field_infos(model_name, get_language() or "ko")[name]
    return value_text(info, record.get(name if info.kind != "named" else f"{name}_id"), names)


def history_sentence(source: str, model_name: str, action: str, record: dict, changes, names):
    """What a history entry did, as one sentence."""
    fields = {c["field"] for c in changes}
    if source == "case" and action == "changed" and "status" in fields:
        return str(CASE_STATUS_CHANGED)
    values = {}
    if source == "team":
        values["role"] = _code(model_name, "role", record, names)
        values["member"] = _code(model_name, "user", record, names)
        if action == "changed" and record.get("removed_at") and "removed_at" in fields:
            return str(TEAM_MEMBER_REMOVED) % values
    elif source == "participant":
        values["organization"] = _code(model_name, "organization", record, names)
    elif source == "plan":
        values["sequence"] = record.get("sequence") or ""
    elif source == "consent":
        values["subject"] = _code(model_name, "subject", record, names)
    elif source == "decision":
        values["decision"] = _code(model_name, "decision", record, names)
    elif source == "assessment":
        values["instrument"] = _code(model_name, "instrument", record, names)
        values["score"] = record.get("score") if record.get("score") is not None else ""
        level = field_infos(model_name, get_language() or "ko")["level"]
        values["level"] = value_text(level, record.get("level"), names, record)
    elif source == "note":
        values["kind"] = _code(model_name, "kind", record, names)
    template = SENTENCES.get((source, action))
    return str(template) % values if template else ""


# A status change's reason as the workflow records it: "selected → active: the person's words".
TRANSITION_REASON = re.compile(r"^([a-z_]+) → ([a-z_]+)(?:: (.*))?$", re.DOTALL)


def reason_text(reason: str) -> str:
    """The reason a person gave, without the status codes a status change records before it
    (the change itself is shown as a labelled line)."""
    found = TRANSITION_REASON.match(reason or "")
    if found and {found[1], found[2]} <= set(CaseStatus.values):
        return reasons.shown(found[3] or "")
    return reasons.shown(reason or "")


def referral_sentence(record: dict, names: dict) -> tuple[str, str]:
    """What a referral event did (its status), as one sentence, and the reason it records."""
    kind = _code("Referral", "kind", record, names)
    status = record.get("status")
    template = REFERRAL_SENTENCES.get(status, REFERRAL_OTHER)
    sentence = str(template) % {
        "kind": kind,
        "status": _code("Referral", "status", record, names),
        "organization": _code("Referral", "to_organization", record, names),
    }
    reason = record.get(REFERRAL_REASONS.get(status, ""), "") or ""
    return sentence, reasons.shown(reason)
