"""The API's JSON parser: DRF's, bounded. A request body is one JSON object of at most
API_MAX_BODY_BYTES, nested at most API_MAX_JSON_DEPTH deep, with lists of at most
API_MAX_LIST_ITEMS items and texts of at most API_MAX_TEXT_CHARS characters, and no lone
surrogates (they cannot be stored or written back as UTF-8). Anything else is a 400 with a
Korean message (docs/api.md "Limits"), before a serializer or a workflow sees it."""

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError(
                _("요청 본문이 너무 큽니다 (최대 %(max)s바이트).") % {"max": f"{limit:,}"}
            )
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(_("요청 본문을 UTF-8 JSON으로 읽을 수 없습니다.")) from exc
        _check_nesting(text)
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as exc:  # _check_nesting bounds depth; this is a last guard
            raise ParseError(_("JSON이 너무 깊게 중첩되어 있습니다.")) from exc
        except ValueError as exc:
            raise ParseError(_("JSON 형식이 올바르지 않습니다: %s") % exc) from exc
        if not isinstance(data, dict):
            raise ParseError(_("요청 본문은 JSON 객체여야 합니다."))
        _check_values(data)
        return data


def _refuse_constant(name: str):
    raise ValueError(_("%s은(는) JSON 값이 아닙니다.") % name)


def _check_nesting(text: str) -> None:
    """Refuse a body nested deeper than the limit without letting the decoder recurse: count
    brackets outside strings, in one pass."""
    limit = settings.API_MAX_JSON_DEPTH
    if text.count("[") + text.count("{") <= limit:
        return
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise ParseError(
                    _("JSON이 너무 깊게 중첩되어 있습니다 (최대 %(max)s단계).") % {"max": limit}
                )
        elif char in "]}":
            depth -= 1


def _check_values(data) -> None:
    max_items = settings.API_MAX_LIST_ITEMS
    max_chars = settings.API_MAX_TEXT_CHARS
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            texts = (value,)
        elif isinstance(value, dict):
            if len(value) > max_items:
                raise ParseError(
                    _("항목이 너무 많습니다 (최대 %(max)s개).") % {"max": f"{max_items:,}"}
                )
            texts = tuple(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            if len(value) > max_items:
                raise ParseError(
                    _("목록의 항목이 너무 많습니다 (최대 %(max)s개).") % {"max": f"{max_items:,}"}
                )
            stack.extend(value)
            continue
        else:
            continue
        for text in texts:
            if len(text) > max_chars:
                raise ParseError(
                    _("글자가 너무 많습니다 (최대 %(max)s자).") % {"max": f"{max_chars:,}"}
                )
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ParseError(
                    _("허용되지 않는 문자(짝이 없는 서로게이트)가 들어 있습니다.")
                ) from exc
