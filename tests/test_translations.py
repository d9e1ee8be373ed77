"""The message catalogues under version control are complete and compiled."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from casemgr.intake import messages, urls

TRANSLATIONS = Path(__file__).resolve().parents[1] / "casemgr" / "translations"

ROOT = TRANSLATIONS.parents[1]
# What the public sees: these sources must be translated in full.
PUBLIC_SOURCES = [
    *sorted((ROOT / "templates" / "public").glob("*.html")),
    ROOT / "templates" / "errors" / "error.html",
    *sorted((ROOT / "casemgr" / "public").glob("*.py")),
    *sorted((ROOT / "casemgr" / "intake").glob("*.py")),
]
# Everything staff read: every template and every module of the package.
STAFF_SOURCES = sorted((ROOT / "templates").rglob("*.html")) + sorted(ROOT.glob("casemgr/**/*.py"))
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}


def strings_of(sources) -> set[str]:
    found: set[str] = set()
    for path in sources:
        method = "jinja2" if path.suffix == ".html" else "python"
        with open(path, "rb") as source:
            for _line, message, _comments, _context in extract(method, source, keywords=KEYWORDS):
                found.add(message if isinstance(message, str) else message[0])
    return found


def public_strings() -> set[str]:
    return strings_of(PUBLIC_SOURCES)


def catalogue(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def test_every_url_message_is_marked_for_translation():
    constants = {value for name, value in vars(urls).items() if name.startswith("MSG_")}
    assert constants == set(messages.URL_MESSAGES)


def test_the_khmer_catalogue_translates_every_public_string():
    km = catalogue("km")
    untranslated = {
        m.id for m in km if m.id and not (all(m.string) if m.pluralizable else m.string)
    }
    assert not untranslated & public_strings(), untranslated & public_strings()
    for message in urls.__dict__.values():
        if isinstance(message, str) and message in messages.URL_MESSAGES:
            assert km[message].string, message


def untranslated(language: str) -> set[str]:
    return {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalogue(language)
        if m.id and not (all(m.string) if m.pluralizable else m.string)
    }


def test_the_khmer_catalogue_translates_every_staff_string():
    """Staff who chose Khmer read no English on their screens."""
    staff = strings_of(STAFF_SOURCES)
    assert len(staff) > 500  # the extraction found the staff screens
    assert not untranslated("km") & staff, sorted(untranslated("km") & staff)


def test_the_khmer_catalogue_has_no_fuzzy_or_stray_untranslated_entry():
    """After bin/translations update, nothing is fuzzy (a guess nobody checked) and
    nothing is left empty."""
    km = catalogue("km")
    assert not [m.id for m in km if m.id and m.fuzzy]
    assert not untranslated("km"), sorted(untranslated("km"))


def test_placeholders_survive_translation():
    import re

    for message in catalogue("km"):
        if not message.id or not message.string:
            continue
        ids = message.id if message.pluralizable else (message.id,)
        strings = message.string if message.pluralizable else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)\w", ids[0]))
        tags = sorted(re.findall(r"</?\w+>", ids[0]))
        for string in strings:
            assert set(re.findall(r"%\(\w+\)\w", string)) == wanted, message.id
            assert sorted(re.findall(r"</?\w+>", string)) == tags, message.id


def test_the_catalogue_template_has_every_string_in_the_code(tmp_path):
    """messages.pot is current: bin/translations update was run after the last change."""
    from babel.messages.frontend import CommandLineInterface

    root = TRANSLATIONS.parents[1]
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(root / "babel.cfg"), "-k", "_l",
         "-k", "lazy_gettext", "-k", "N_", "--no-location", "--sort-output",
         "-o", str(fresh), str(root)]
    )  # fmt: skip
    with open(fresh, "rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        committed = {m.id for m in read_po(f) if m.id}
    assert wanted == committed, "run bin/translations update (and translate, and compile)"
    assert wanted <= {m.id for m in catalogue("km") if m.id}


def test_the_compiled_catalogues_match_their_sources():
    """The committed .mo files are compiled from the current .po (bin/translations compile)."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        with open(po_path, "rb") as f:
            source = read_po(f)
        compiled = io.BytesIO()
        write_mo(compiled, source)
        compiled.seek(0)
        expected = _messages(read_mo(compiled))
        with open(po_path.with_suffix(".mo"), "rb") as f:
            committed = _messages(read_mo(f))
        assert committed == expected, f"{po_path}: run bin/translations compile"


def _messages(mo_catalogue) -> dict:
    def frozen(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {frozen(m.id): frozen(m.string) for m in mo_catalogue if m.id}
