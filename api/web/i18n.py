"""The pages' words in Indonesian (the default) and English, and the page language.

Words live in gettext catalogues (:mod:`.catalogues`): each key has its Indonesian
and English text, with ``str.format`` fields. The language is chosen with
``?lang=id|en`` (kept in a cookie) and falls back to Indonesian. Role names stay
as they are in both languages. Extensions add their own catalogue
(``Setup.catalogue``) or a dict of words (``Setup.words``); both come before the
engine's, so an extension may reword the engine's words.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import get_day_names, get_month_names
from babel.support import NullTranslations
from flask import Flask, current_app, g
from flask_babel import Babel, Domain, get_locale

from engine.tasks.form_submission import FieldError

from . import formatting
from .catalogues import ENGINE_FOLDER, Catalogues

DEFAULT = "id"
LANGUAGES = ("id", "en")

# Words not yet moved into the catalogue, key -> (Indonesian, English): consulted
# before the catalogues so a branch that adds words here keeps working until
# ``python -m api.web.catalogues absorb`` moves them into the .po files.
MESSAGES: dict[str, tuple[str, str]] = {}


def choose(asked: str | None, remembered: str | None) -> str:
    """The language of this request: asked for, else remembered, else Indonesian."""
    for candidate in (asked, remembered):
        if candidate in LANGUAGES:
            return str(candidate)
    return DEFAULT


def current() -> str:
    lang: str = g.get("lang", DEFAULT)
    return lang


class _PagesDomain(Domain):
    """Flask-Babel's gettext (``_()`` in templates, ``flask_babel.gettext``) served from
    the catalogues compiled at start-up rather than from ``.mo`` files on disk."""

    def get_translations(self) -> NullTranslations:
        locale = get_locale()
        lang = locale.language if locale is not None else DEFAULT
        return catalogues().languages[lang if lang in LANGUAGES else DEFAULT].translations


def load(app: Flask) -> Catalogues:
    """Compile every loaded catalogue (the extensions' first, then the engine's) once,
    when the app is built, and set up Flask-Babel: the page's language is its locale,
    the service's time zone its time zone."""
    setup = app.extensions["sertiflow"].setup
    loaded = Catalogues([*setup.catalogue_folders, ENGINE_FOLDER])
    app.extensions["sertiflow_catalogues"] = loaded
    babel = Babel(app, default_locale=DEFAULT, locale_selector=current,
                  timezone_selector=lambda: setup.settings.timezone)
    # Flask-Babel keeps its domain in a cached property: put ours in its place.
    babel.__dict__["domain_instance"] = _PagesDomain()
    return loaded


def catalogues() -> Catalogues:
    loaded: Catalogues = current_app.extensions["sertiflow_catalogues"]
    return loaded


def translate(lang: str, key: str, default: str | None = None, **fields: Any) -> str:
    """The text of ``key`` in ``lang``; the key itself (or ``default``) when unknown."""
    lang = lang if lang in LANGUAGES else DEFAULT
    # Words given as dicts first (an extension's ``Setup.words``, words not yet moved
    # into a catalogue), then the catalogues, the extensions' before the engine's.
    texts = current_app.extensions["sertiflow"].setup.messages.get(key) or MESSAGES.get(key)
    text = texts[LANGUAGES.index(lang)] if texts else catalogues().word(lang, key)
    if text is None:
        return default if default is not None else key
    return text.format(**fields) if fields else text


def form_text(lang: str, text: str) -> str:
    """A form's text (label, help text, option) in ``lang``: forms are written in
    Indonesian, their English comes from the ``forms`` catalogues, keyed by that text."""
    if lang == DEFAULT or not text:
        return text
    return catalogues().form_text(lang, text) or text


def field_problem(lang: str, error: FieldError) -> str:
    """A form field's problem in ``lang`` (``field.<code>`` with its numbers); a format
    problem says so and gives the field's help text, never the pattern."""
    if not error.code:
        return error.message
    # Numbers with the language's separators: "Paling besar 1.000,5."
    params = {name: _number_text(value, lang) for name, value in error.params.items()}
    text = translate(lang, "field." + error.code, default=error.message, **params)
    if error.code == "pattern" and error.hint:
        text += ": " + form_text(lang, error.hint)
    return text


def _number_text(value: str, lang: str) -> str:
    try:
        return formatting.number(Decimal(value), lang)
    except InvalidOperation:
        return value


def form_words(lang: str) -> dict[str, Any]:
    """The form viewer's own words (``formjs.*``, field problems ``field.*``) in
    ``lang``, for the task page's script: form-js has them in English only. Its date
    picker's months and weekdays (Sunday first) come from Babel's calendar data."""
    words: dict[str, Any] = {name: translate(lang, "formjs." + name) for name in _FORMJS}
    words.update({"field." + code: translate(lang, "field." + code)
                  for code in ("required", "pattern", "min_length", "max_length", "minimum",
                               "maximum", "email", "phone", "whole", "decimals")})
    locale = formatting.locale_of(lang)
    months = get_month_names("wide", locale=locale)
    days = get_day_names("abbreviated", locale=locale)  # 0 is Monday
    words["months"] = [months[number] for number in range(1, 13)]
    words["weekdays"] = [days[(number + 6) % 7] for number in range(7)]
    return words


_FORMJS = ("browse", "no_files", "files_selected", "add_new", "collapse", "expand_all",
           "select", "search", "remove_tag", "skip_to_search", "nothing_to_show",
           "previous_page", "next_page", "increment", "decrement", "not_a_number", "nearest",
           "date_and_time", "remove_row", "download")
_FORM_TEXTS = ("label", "description", "text", "placeholder")


def translate_form(schema: Any, lang: str) -> Any:
    """A copy of a form-js schema with its labels, help texts and option labels in
    ``lang`` (through the ``forms`` catalogues); unknown texts stay as written."""
    if lang == DEFAULT:
        return schema
    if isinstance(schema, list):
        return [translate_form(item, lang) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {}
    for name, value in schema.items():
        if name in _FORM_TEXTS and isinstance(value, str):
            copy[name] = form_text(lang, value)
        elif name in ("components", "values"):
            copy[name] = translate_form(value, lang)
        else:
            copy[name] = value
    return copy
