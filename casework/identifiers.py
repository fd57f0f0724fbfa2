"""No resident registration number is kept in any free text of casework (DESIGN.md §9).

Every free-text field of every casework model — its TextFields and the text items of its
JSON lists (a plan's goals) — is checked before each save, whichever workflow, page, API call
or import writes it, so that a new model or field is covered without anyone remembering to.
A row saved before the check that already holds such a number is not blocked on an unrelated
change: only a value that differs from the stored one is refused.
"""

from django.core.exceptions import ValidationError
from django.db import models

from core.identifiers import REFUSED, has_resident_number

# JSON written by the machine, not typed: ids, import previews and errors, rule measurements.
MACHINE_JSON = {"accessevent", "job", "reviewfinding", "destructionrecord"}


def _free_text_fields(model) -> list[models.Field]:
    kinds = (models.TextField,)
    if model._meta.model_name not in MACHINE_JSON:
        kinds = (models.TextField, models.JSONField)
    return [field for field in model._meta.concrete_fields if isinstance(field, kinds)]


def _texts(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    if isinstance(value, dict):
        return [item for item in value.values() if isinstance(item, str)]
    return []


def refuse_resident_numbers(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """pre_save: a ValidationError naming each free-text field that holds such a number."""
    if raw or sender._meta.model_name.startswith("historical"):
        return
    found = []
    for field in _free_text_fields(sender):
        if update_fields is not None and field.name not in update_fields:
            continue
        value = getattr(instance, field.attname)
        if any(has_resident_number(text) for text in _texts(value)):
            found.append(field)
    if found and not instance._state.adding and instance.pk is not None:
        stored = (
            sender._default_manager.filter(pk=instance.pk)
            .values(*(f.attname for f in found))
            .first()
            or {}
        )
        found = [f for f in found if stored.get(f.attname) != getattr(instance, f.attname)]
    if found:
        raise ValidationError({field.name: REFUSED for field in found})
