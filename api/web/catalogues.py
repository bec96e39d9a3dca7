"""The pages' gettext catalogues: loading, layering, checking, and absorbing old word dicts.

A catalogue folder holds ``<lang>/LC_MESSAGES/<domain>.po`` files, the source of
truth, committed. They are compiled in-process when the app starts (``.po`` ->
``.mo`` in memory with :mod:`babel.messages`), so no binary is committed and no
build step can be forgotten: what runs is always what the ``.po`` files say.

Two domains:

``messages``
    Page words. The msgid is a stable key (``nav.tasks``), never the English text:
    both languages are then full translations of the same keys, and "a key missing
    from a catalogue" is a check a machine can make (``check`` below).
``forms``
    The texts of deployed forms (labels, help texts, option labels), keyed by the
    Indonesian text the form designer wrote, since forms are written in Indonesian
    and the same text ("Catatan") recurs across many forms. Only the ``en``
    catalogue exists; Indonesian needs no translation.

The engine's folder is ``api/web/translations``; each extension adds its own
(``Setup.catalogue``), which comes before the engine's, so an extension may reword
the engine's words (the footer, the brand). Maintenance, from the repository root::

    python -m api.web.catalogues check    # every key in both languages, none unused
    python -m api.web.catalogues absorb   # move words left in the old dicts into .po
"""

from __future__ import annotations

import functools
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

LANGUAGES = ("id", "en")
ENGINE_FOLDER = Path(__file__).resolve().parent / "translations"
MESSAGES = "messages"
FORMS = "forms"


def po_path(folder: Path, lang: str, domain: str = MESSAGES) -> Path:
    return folder / lang / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(path: Path, lang: str) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=lang)


def compile_po(path: Path, lang: str) -> Translations:
    """The gettext translations of one ``.po`` file, compiled in memory (once per
    version of the file in a process: the tests build many apps)."""
    return _compiled(path, lang, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _compiled(path: Path, lang: str, _version: int) -> Translations:
    binary = io.BytesIO()
    write_mo(binary, read_catalog(path, lang))
    binary.seek(0)
    return Translations(binary)


@dataclass
class Language:
    """One language's words, every folder merged (earlier folders win)."""

    words: dict[str, str] = field(default_factory=dict)
    form_texts: dict[str, str] = field(default_factory=dict)
    translations: Translations = field(default_factory=Translations)


class Catalogues:
    """All loaded catalogues; ``folders`` in precedence order (extensions first)."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = list(folders)
        self.languages: dict[str, Language] = {lang: self._load(lang) for lang in LANGUAGES}

    def _load(self, lang: str) -> Language:
        language = Language()
        # The last merged wins in Translations; the first folder must win, so go backwards.
        for folder in reversed(self.folders):
            for domain, target in ((MESSAGES, language.words), (FORMS, language.form_texts)):
                path = po_path(folder, lang, domain)
                if not path.is_file():
                    continue
                compiled = compile_po(path, lang)
                if domain == MESSAGES:
                    language.translations.merge(compiled)
                target.update(_texts(compiled))
        return language

    def word(self, lang: str, key: str) -> str | None:
        return self.languages[lang].words.get(key) if lang in self.languages else None

    def form_text(self, lang: str, text: str) -> str | None:
        return self.languages[lang].form_texts.get(text) if lang in self.languages else None


def _texts(compiled: Translations) -> dict[str, str]:
    # gettext keeps the compiled catalogue as a dict; the header entry has an empty msgid.
    catalog: Mapping[object, str] = getattr(compiled, "_catalog", {})
    return {key: text for key, text in catalog.items() if isinstance(key, str) and key}


# -- maintenance ----------------------------------------------------------------------------

_TEMPLATE_KEY = re.compile(r"""\bt\(\s*['"]([a-z0-9_.\-]+)['"]""")
_CODE_KEY = re.compile(r"""translate\([^,()]+,\s*['"]([a-z0-9_.\-]+)['"]""")
_PREFIXED = re.compile(r"""\bt\(\s*['"]([a-z0-9_.\-]+\.)['"]\s*~""")


def used_keys(roots: Iterable[Path]) -> tuple[set[str], set[str]]:
    """Keys named literally in templates and code, and prefixes of keys built at run
    time (``t('event.' ~ kind)``), found under ``roots``."""
    keys: set[str] = set()
    prefixes: set[str] = set()
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".html", ".py") or "translations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            keys.update(_TEMPLATE_KEY.findall(text))
            keys.update(_CODE_KEY.findall(text))
            prefixes.update(_PREFIXED.findall(text))
    # A key ending in "." or "_" is the start of one built at run time ("field." + code).
    prefixes.update(key for key in keys if key.endswith((".", "_")))
    return keys - prefixes, prefixes


def problems(folders: Sequence[Path], used: set[str] | None = None) -> list[str]:
    """What is wrong with the ``messages`` catalogues: a key in one language and not
    the other, an empty translation, or (given ``used``) a used key in no catalogue."""
    found: list[str] = []
    every: set[str] = set()
    for folder in folders:
        keys: dict[str, set[str]] = {}
        for lang in LANGUAGES:
            path = po_path(folder, lang)
            if not path.is_file():
                found.append(f"{path}: missing")
                keys[lang] = set()
                continue
            catalog = read_catalog(path, lang)
            keys[lang] = {str(m.id) for m in catalog if m.id}
            found.extend(f"{path}: {m.id!r} has no translation"
                         for m in catalog if m.id and not m.string)
        for lang, other in (("id", "en"), ("en", "id")):
            found.extend(f"{po_path(folder, lang)}: {key!r} is missing (the {other} catalogue "
                         "has it)" for key in sorted(keys[other] - keys[lang]))
        every |= keys["id"] | keys["en"]
    if used is not None:
        found.extend(f"key {key!r} is used but in no catalogue" for key in sorted(used - every))
    return found


def form_texts(schema: object) -> Iterator[str]:
    """Every text of a form-js schema a person reads: labels, help texts, text blocks,
    option labels (the texts :func:`api.web.i18n.translate_form` translates)."""
    if isinstance(schema, list):
        for item in schema:
            yield from form_texts(item)
    elif isinstance(schema, dict):
        for name in ("label", "description", "text", "placeholder"):
            if isinstance(schema.get(name), str) and schema[name]:
                yield schema[name]
        yield from form_texts(schema.get("components"))
        yield from form_texts(schema.get("values"))


def untranslated_form_texts(forms: Path, folder: Path, lang: str = "en") -> list[str]:
    """The texts of ``forms/*.form`` that ``folder``'s forms catalogue lacks."""
    path = po_path(folder, lang, FORMS)
    known = {str(m.id) for m in read_catalog(path, lang) if m.id and m.string} \
        if path.is_file() else set()
    found: list[str] = []
    for form in sorted(forms.glob("*.form")):
        schema = json.loads(form.read_text(encoding="utf-8"))
        found.extend(f"{form.name}: {text!r} has no {lang} translation"
                     for text in form_texts(schema) if text not in known)
    return found


def absorb(words: Mapping[str, tuple[str, str]], folder: Path) -> int:
    """Add ``key -> (Indonesian, English)`` words to ``folder``'s catalogues (existing
    keys keep their text); return how many keys were new."""
    added = 0
    catalogs = {}
    for lang in LANGUAGES:
        path = po_path(folder, lang)
        catalogs[lang] = read_catalog(path, lang) if path.is_file() else Catalog(
            locale=lang, domain=MESSAGES, project="sertiflow", version="1",
            copyright_holder="sertiflow", fuzzy=False)
    for key, texts in words.items():
        if key in catalogs["id"]:
            continue
        added += 1
        for lang, text in zip(LANGUAGES, texts, strict=True):
            flags = ("python-brace-format",) if "{" in text else ()
            catalogs[lang].add(key, text, flags=flags)
    for lang, catalog in catalogs.items():
        path = po_path(folder, lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as target:
            write_po(target, catalog, width=96, omit_header=False, sort_output=False)
    return added


def _main(argv: Sequence[str]) -> int:
    # The loaded extensions (SERTIFLOW_EXTENSIONS, the LSPro's by default) name their
    # catalogues and dict words; the web layer imports none of them by name.
    from engine.config import load_settings
    from engine.extensions import load
    from engine.runtime.handlers import TopicRegistry

    from ..extensions import default_extensions
    from . import i18n

    setup = load(default_extensions(), load_settings(), TopicRegistry())
    repository = ENGINE_FOLDER.parents[2]
    folders = [*setup.catalogue_folders, ENGINE_FOLDER]
    if argv[:1] == ["check"]:
        used, _ = used_keys([repository / "api", *(f.parent for f in setup.catalogue_folders)])
        found = problems(folders, used)
        for folder in setup.catalogue_folders:
            found += untranslated_form_texts(repository / "forms", folder)
        for line in found:
            print(line)
        return 1 if found else 0
    if argv[:1] == ["absorb"]:
        print(f"engine: {absorb(i18n.MESSAGES, ENGINE_FOLDER)} new keys")
        if setup.messages and setup.catalogue_folders:
            print(f"extensions: {absorb(setup.messages, setup.catalogue_folders[0])} new keys")
        print("now empty the dicts the words came from")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
