"""The Ukrainian and German catalogues: complete, consistent, compiled, and used by the pages.

A failure here usually means strings changed; the fix is
    scripts/translations extract update   (then translate what it lists)
    scripts/translations compile
"""

from __future__ import annotations

import gettext
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from aidmatch.extensions import db
from aidmatch.permissions import Role
from tests.factories import make_user
from tests.posting_factories import make_need

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "aidmatch" / "translations"
LANGUAGES = ("uk", "de")  # English is the source language and has no catalogue
FIX = "run scripts/translations extract update, translate, then scripts/translations compile"

# %(name)s, %d, %.2f, %% ... and a lone % at the end: anything Python's % operator reads.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[a-zA-Z%]|%$")
TAG = re.compile(r"<[^>]*>")


def read_catalogue(language: str) -> Catalog:
    """The .po file of a language as committed."""
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=language)


def forms(message: Message) -> tuple[str, ...]:
    """A message's translation(s): one string, or one per plural form."""
    return message.string if isinstance(message.string, tuple) else (message.string,)


def ids(message: Message) -> tuple[str, ...]:
    """A message's source string(s): the msgid, and the plural msgid if there is one."""
    return message.id if isinstance(message.id, tuple) else (message.id,)


def label(message: Message) -> str:
    """A message as a line of a failure report: its msgid and where it is used."""
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
    return f"  {ids(message)[0]!r}" + (f"  ({where})" if where else "")


def placeholders(text: str) -> tuple:
    """The %-placeholders of a string: named ones in any order, positional ones in order."""
    found = [p for p in PLACEHOLDER.findall(text) if p != "%%"]
    return (
        sorted(p for p in found if p.startswith("%(")),
        [p for p in found if not p.startswith("%(")],
    )


def tags(text: str) -> list[str]:
    """The HTML tags in a string, in any order."""
    return sorted(TAG.findall(text))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Catalog:
    """What the code and templates mark for translation now, extracted the way
    scripts/translations extract does it (the same script, writing elsewhere)."""
    pot = tmp_path_factory.mktemp("extract") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    assert pybabel.exists(), f"pybabel is not installed next to {sys.executable}"
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "translations"), "extract"],
        cwd=ROOT,
        env={**os.environ, "TRANSLATIONS_POT": str(pot), "PYBABEL": str(pybabel)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with pot.open("rb") as fh:
        catalog = read_po(fh)
    assert len([m for m in catalog if m.id]) > 100, "the extraction found almost nothing"
    return catalog


# (a) every marked string is in each catalogue, translated, not fuzzy, placeholders kept -------


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_translates_every_marked_string(template, language):
    catalog = read_catalogue(language)
    missing, fuzzy, untranslated = [], [], []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        if found is None or ids(found) != ids(message):  # a changed plural msgid counts too
            missing.append(label(message))
        elif found.fuzzy:
            fuzzy.append(label(message))
        elif not all(forms(found)) or (
            found.pluralizable and len(forms(found)) != catalog.num_plurals
        ):
            untranslated.append(label(message))
    report = [
        f"{title} ({len(rows)}):\n" + "\n".join(rows)
        for title, rows in (
            ("not in the catalogue", missing),
            ("marked fuzzy (check the translation, then remove the flag)", fuzzy),
            ("not translated", untranslated),
        )
        if rows
    ]
    assert not report, f"{language} catalogue is behind the code; {FIX}.\n" + "\n".join(report)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_placeholders_and_markup(language):
    catalog = read_catalogue(language)
    wrong = []
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        sources = ids(message)
        for text in forms(message):
            if not text:
                continue
            if placeholders(text) not in [placeholders(s) for s in sources]:
                wrong.append(f"  {sources[0]!r} -> {text!r}: placeholders differ")
            if tags(text) not in [tags(s) for s in sources]:
                wrong.append(f"  {sources[0]!r} -> {text!r}: HTML differs")
    assert not wrong, f"{language} catalogue:\n" + "\n".join(wrong)


def test_ukrainian_plural_rule():
    catalog = read_catalogue("uk")
    assert catalog.num_plurals == 3
    choose = gettext.c2py(catalog.plural_expr)
    # one: 1, 21, 101; few: 2-4, 22-24; many: 0, 5-20, 25-30, 111-114 ...
    expected = {1: 0, 21: 0, 101: 0, 2: 1, 4: 1, 22: 1, 0: 2, 5: 2, 11: 2, 12: 2, 14: 2, 112: 2}
    assert {n: choose(n) for n in expected} == expected


# (b) the committed .mo files are what compiling the .po files gives --------------------------


def compiled(catalog: Catalog) -> Catalog:
    """Compile a catalogue the way pybabel compile does (fuzzy entries left out), read back."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return read_mo(buffer)


def contents(catalog: Catalog) -> dict:
    """The translations of a compiled catalogue, by (msgid, context)."""
    return {(flat(m.id), m.context): flat(m.string) for m in catalog if m.id}


def flat(value):
    """A msgid or msgstr as a hashable value (read_mo gives plural forms as lists)."""
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_mo_file_matches_the_po_file(language):
    mo_path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo"
    assert mo_path.exists(), f"{mo_path} is missing: run scripts/translations compile"
    fresh = compiled(read_catalogue(language))
    with mo_path.open("rb") as fh:
        committed = read_mo(fh)
    want, have = contents(fresh), contents(committed)
    stale = sorted(
        repr(key[0] if isinstance(key[0], str) else key[0][0])
        for key in want.keys() | have.keys()
        if want.get(key) != have.get(key)
    )
    assert not stale, (
        f"{mo_path.relative_to(ROOT)} is older than its .po file "
        f"({len(stale)} strings differ, e.g. {', '.join(stale[:5])}): "
        "run scripts/translations compile"
    )
    assert committed.plural_forms == fresh.plural_forms


# (c) pages come out in the language of the browser, the session and the user ---------------


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept", "lang", "words", "not_words"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", "de", ["Anmelden", "Passwort", "Noch kein Konto?"], ["Log in"]),
        ("uk,ru;q=0.8", "uk", ["Увійти", "Пароль", "Ще немає облікового запису?"], ["Log in"]),
        ("en-GB,en;q=0.9", "en", ["Log in", "Password", "No account yet?"], ["Anmelden"]),
    ],
)
def test_login_page_follows_the_browser(client, accept, lang, words, not_words):
    page = html(client.get("/login", headers={"Accept-Language": accept}))
    assert f'<html lang="{lang}">' in page
    for word in words:  # template strings and a form label from Python (lazy_gettext)
        assert word in page
    for word in not_words:
        assert word not in page


def test_the_language_switch_wins_over_the_browser(client):
    response = client.post("/language", data={"language": "uk", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    with client.session_transaction() as session:
        assert session["language"] == "uk"
    page = html(client.get("/login", headers={"Accept-Language": "de"}))
    assert '<html lang="uk">' in page
    assert "Увійти" in page and "Електронна пошта" in page
    assert "Anmelden" not in page
    # English can be chosen back, though it has no catalogue.
    client.post("/language", data={"language": "en", "next": "/login"})
    page = html(client.get("/login", headers={"Accept-Language": "de"}))
    assert '<html lang="en">' in page and "Log in" in page


def test_a_users_language_setting_wins_over_the_browser(app, client, login_as):
    user = make_user(Role.ORGANIZER, language="de")
    make_need(user.organization, user, urgency="high")
    db.session.commit()
    login_as(user)
    page = html(client.get("/needs", headers={"Accept-Language": "uk"}))
    assert '<html lang="de">' in page
    assert re.search(r"\b1 Bedarf\b", page)  # ngettext, singular
    assert "hoch" in page  # an urgency label from Python
    assert "Bedarf melden" in page and "Abmelden" in page


@pytest.mark.parametrize(("needs", "words"), [(0, "0 потреб"), (2, "2 потреби"), (5, "5 потреб")])
def test_ukrainian_plural_forms_on_a_page(app, client, login_as, needs, words):
    user = make_user(Role.ORGANIZER, language="uk")
    for _ in range(needs):
        make_need(user.organization, user)
    db.session.commit()
    login_as(user)
    page = html(client.get("/needs"))
    assert re.search(rf"\b{words}\b", page)
    assert "Потреби" in page


# Dates and numbers in the language's own way ------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        # 04:41 UTC is 06:41 in Kyiv, the default time zone of a visitor
        ("uk", "27 лист. 2026 р. | 27 лист. 2026 р., 06:41 | 1 234,5 | 0,33 | 405"),
        ("de", "27.11.2026 | 27.11.2026, 06:41 | 1.234,5 | 0,33 | 405"),
        ("en", "Nov 27, 2026 | Nov 27, 2026, 6:41 AM | 1,234.5 | 0.33 | 405"),
    ],
)
def test_date_and_number_filters_follow_the_language(app, language, expected):
    from datetime import UTC, datetime

    from flask import render_template_string

    when = datetime(2026, 11, 27, 4, 41, tzinfo=UTC)
    source = "{{ d | date }} | {{ d | datetime }} | {{ n | number }} | {{ s | number(2) }} | {{ k | number(0) }}"
    with app.test_request_context("/", headers={"Accept-Language": language}):
        text = render_template_string(source, d=when, n=1234.5, s=0.3333, k=405.2)
    # CLDR puts no-break spaces in some of these (and changes which, between versions).
    assert re.sub(r"\s", " ", text) == expected


@pytest.mark.parametrize("language", ["uk", "en", "de"])
def test_whole_numbers_are_written_as_babel_writes_them(app, language):
    """local_number's shortcut for whole numbers writes what format_decimal writes."""
    from babel.numbers import format_decimal

    from aidmatch.web.i18n import local_number

    values = [0, 7, 999, 1000, 1234, 99_999, 100_000, 1_234_567, 10**12]
    with app.test_request_context("/", headers={"Accept-Language": language}):
        written = [local_number(value) for value in values]
        assert local_number(-1234) == format_decimal(-1234, locale=language)
    assert written == [format_decimal(value, locale=language) for value in values]
    assert written[4] == {"uk": "1\xa0234", "en": "1,234", "de": "1.234"}[language]
