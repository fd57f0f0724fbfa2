"""Korean is the source language; the English catalog must be complete and current."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
SOURCES = ("config", "core", "partners", "casework", "seed", "templates", "manage.py")


def parse_po(path: Path) -> dict[str, tuple[str, bool]]:
    """msgid → (msgstr, fuzzy) for every entry but the header; plural forms count as one."""
    entries: dict[str, tuple[str, bool]] = {}
    text = path.read_text(encoding="utf-8")
    for block in re.split(r"\n\s*\n", text):
        if "msgid" not in block or block.lstrip().startswith("#~"):
            continue
        fuzzy = "#, fuzzy" in block or re.search(r"^#,.*fuzzy", block, re.M) is not None
        msgctxt = _field(block, "msgctxt")
        msgid = _field(block, "msgid")
        msgstr = _field(block, "msgstr") or _field(block, r"msgstr\[0\]")
        if msgid:
            entries[(msgctxt + "\x04" if msgctxt else "") + msgid] = (msgstr, fuzzy)
    return entries


def _field(block: str, name: str) -> str:
    match = re.search(rf'^{name} ((?:".*"\n?)+)', block, re.M)
    if not match:
        return ""
    return "".join(re.findall(r'"(.*)"', match.group(1)))


def test_english_catalog_has_every_entry_translated():
    entries = parse_po(CATALOG)
    assert entries, "the English catalog is empty"
    untranslated = [msgid for msgid, (msgstr, fuzzy) in entries.items() if not msgstr or fuzzy]
    assert not untranslated, f"English missing or fuzzy for: {untranslated[:20]}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_english_catalog_covers_all_ui_text(tmp_path):
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, tmp_path / name)
    (tmp_path / "locale").mkdir()
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete", "-v0"],
        cwd=tmp_path,
        env={"DEBUG": "1", "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    wanted = set(parse_po(tmp_path / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    missing = sorted(wanted - set(parse_po(CATALOG)))
    assert not missing, f"run `make makemessages` and translate: {missing[:20]}"


def test_every_notification_kind_has_english():
    """Notifications are rendered in the reader's language from MESSAGES: each template needs an
    English entry with the same placeholders (a missing one would not render)."""
    from django.conf import settings
    from django.utils import translation

    from casework.models.notifications import MESSAGES, PLACEHOLDER

    entries = parse_po(CATALOG)
    problems = []
    for kind, message in MESSAGES.items():
        for template in message.templates():
            with translation.override(settings.LANGUAGE_CODE):
                msgid = str(template)
            msgstr, fuzzy = entries.get(msgid, ("", False))
            if not msgstr or fuzzy:
                problems.append(f"{kind}: no English for {msgid!r}")
            elif set(PLACEHOLDER.findall(msgstr)) != set(PLACEHOLDER.findall(msgid)):
                problems.append(f"{kind}: placeholders differ in {msgstr!r}")
    assert not problems, problems
