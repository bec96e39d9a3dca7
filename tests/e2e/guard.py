"""The browser tests' guard: no technical value on a page a non-admin reads.

Every browser context the e2e tests open goes through :class:`GuardedBrowser`. An
init script in each page reports what a person reads — ``document.body.innerText``,
the title, the ``title``/``placeholder``/``aria-label`` attributes and the values of
read-only inputs — once the page has loaded and again whenever it settles after a
change (form-js renders, a tab opens, an error appears). The guard looks in it for
the process keys and BPMN element ids of every deployed definition, UUIDs, JSON, and
on Indonesian pages for English words of a short stop-list. Pages of admins and
analysts are exempt (they are the ones who work with keys and ids). A context's
pages are checked once more as it closes; the test fails at its end, naming the
page, the person and the offending text.

This is a plain module (not a test module): ``tests/test_layering.py`` forbids test
modules importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from engine.composition import Engine
from engine.models import ProcessDefinition

UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{12}\b")
JSON = re.compile(r'\{"|":')
# Every id="..." of a BPMN file: processes, tasks, events, gateways, flows, lanes,
# messages... (the diagram's own shapes, ``*_di``, are ids too and are kept).
XML_ID = re.compile(r'\sid="([^"]+)"')
# Ids that are also ordinary Indonesian words the pages use as words, not as keys.
WORD_IDS = {
    "banding": "the appeal process's key, and the word for an appeal ('Ajukan banding')",
    "keluhan": "the complaint process's key, and the word for a complaint",
    "mulai": "the start event of the tests' small processes (tests/web), the word for 'start'",
    "selesai": "their end event, and the word for 'done' in every 'Tugas selesai'",
}
# The tests' small processes name their flows "a", "b", ...: letters, not words a person
# could take for a key. Shorter ids than this are not looked for.
SHORTEST_ID = 3
# Roles whose pages may show keys and ids: admins look after instances and incidents,
# analysts deploy diagrams (engine/identity/access.py).
EXEMPT_ROLES = {"admin", "analyst"}
# English words that do not belong on an Indonesian page (whole words, any case); the
# same idea as the Flask-client stop-list of tests/web/test_words.py (without "valid",
# which is Indonesian too).
ENGLISH = ("the", "and", "task", "tasks", "process", "browse", "no files", "add new", "field",
           "must", "required", "submit", "cancel", "pattern", "sign in", "sign out", "search",
           "select", "upload", "claim", "complete", "completed", "history", "documents",
           "none", "issued", "handed", "open", "due", "overdue", "previous", "next",
           "with", "is", "not", "loading", "error")
STOP = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH) + r")\b", re.I)

# What a person reads on the page, reported to Python through a binding: at load, and
# 200 ms after the last change of the page's nodes or visibility.
SCRIPT = """
(() => {
  const read = () => {
    const who = document.querySelector('.who');
    const attrs = [];
    for (const el of document.querySelectorAll('[title],[placeholder],[aria-label]')) {
      if (el === who) continue;  // the signed-in person's roles, read below
      for (const name of ['title', 'placeholder', 'aria-label']) {
        const value = el.getAttribute(name);
        if (value) attrs.push(value);
      }
    }
    for (const el of document.querySelectorAll('input[readonly], input[disabled], '
                                               + 'textarea[readonly], textarea[disabled]')) {
      if (el.type !== 'hidden' && el.type !== 'file' && el.value) attrs.push(el.value);
    }
    return {url: location.href, title: document.title, lang: document.documentElement.lang,
            roles: who ? (who.getAttribute('title') || '') : null,
            text: document.body ? document.body.innerText : '', attrs};
  };
  window.__sfGuardRead = read;
  const report = () => { if (window.__sfGuard) window.__sfGuard(read()); };
  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(report, 200); };
  window.addEventListener('load', () => {
    report();
    new MutationObserver(later).observe(document.body, {
      subtree: true, childList: true, characterData: true,
      attributes: true, attributeFilter: ['hidden', 'class', 'open']});
  });
})();
"""


@dataclass
class Vocabulary:
    """The process keys and element ids of the deployed definitions, as one pattern."""

    seen: frozenset[str] = frozenset()
    words: set[str] = field(default_factory=set)
    pattern: re.Pattern[str] | None = None


class Guard:
    """Collects what non-admins read and what technical values were found in it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.findings: list[str] = []
        self.checked = 0
        self.seen: set[tuple[str, str]] = set()  # (who, path) of every page read
        self._vocabulary = Vocabulary()

    # -- what counts as technical ---------------------------------------------------------

    def technical_words(self) -> re.Pattern[str] | None:
        """One pattern for every key and id deployed now (re-read when deployments change)."""
        with self.engine.read() as s:
            ids = frozenset(s.session.scalars(sa.select(ProcessDefinition.id)))
            if ids != self._vocabulary.seen:
                words: set[str] = set()
                for definition in s.session.scalars(
                        sa.select(ProcessDefinition).where(ProcessDefinition.id.in_(ids))):
                    words.add(definition.key)
                    words |= set(XML_ID.findall(definition.bpmn_xml))
                words = {w for w in words - set(WORD_IDS) if len(w) >= SHORTEST_ID}
                ordered = sorted(words, key=len, reverse=True)
                pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ordered))
                                     + r")(?![\w-])") if ordered else None
                self._vocabulary = Vocabulary(ids, words, pattern)
        return self._vocabulary.pattern

    def problems(self, texts: Iterable[str], *, indonesian: bool) -> list[str]:
        """The technical values (and English words, on Indonesian pages) in ``texts``."""
        pattern = self.technical_words()
        found: list[str] = []
        for text in texts:
            found += [f"UUID {m.group(0)}" for m in UUID.finditer(text)]
            if pattern is not None:
                found += [f"key or element id {m.group(0)!r}" for m in pattern.finditer(text)]
            found += [f"JSON …{text[max(0, m.start() - 30):m.end() + 30]!r}…"
                      for m in JSON.finditer(text)]
            if indonesian:
                found += [f"English word {m.group(0)!r} in …"
                          f"{text[max(0, m.start() - 30):m.end() + 30]!r}…"
                          for m in STOP.finditer(text)]
        return list(dict.fromkeys(found))

    # -- what the pages report ------------------------------------------------------------

    def read(self, page: dict[str, Any]) -> None:
        """Check one report of a page (the init script's ``read()``)."""
        roles = {r.strip() for r in (page.get("roles") or "").split(",") if r.strip()}
        if roles & EXEMPT_ROLES:
            return
        self.checked += 1
        texts = [page.get("title") or "", page.get("text") or "", *page.get("attrs", [])]
        indonesian = (page.get("lang") or "id").startswith("id")
        who = ", ".join(sorted(roles)) or "not signed in"
        self.seen.add((who, urlsplit(page.get("url") or "").path))
        for problem in self.problems(texts, indonesian=indonesian):
            finding = f"{page.get('url')} ({who}): {problem}"
            if finding not in self.findings:
                self.findings.append(finding)

    def check_now(self, page: Any) -> None:
        """Read ``page`` as it is now (a context about to close, the test's end)."""
        if page.is_closed():
            return
        try:
            report = page.evaluate("() => window.__sfGuardRead && window.__sfGuardRead()")
        except Exception as exc:  # a page navigating away: its load reports it
            if "context was destroyed" in str(exc) or "navigat" in str(exc):
                return
            raise
        if report:
            self.read(report)

    def install(self, context: Any) -> None:
        def receive(_source: Any, report: dict[str, Any]) -> None:
            try:
                self.read(report)
            except Exception as exc:  # never lost: it fails the test
                self.findings.append(f"{report.get('url')}: the guard failed: {exc!r}")
        context.expose_binding("__sfGuard", receive)
        context.add_init_script(SCRIPT)

    def verdict(self) -> str | None:
        """What the test's failure says, or None when every page was clean."""
        if not self.findings:
            return None
        return ("pages shown to non-admins hold technical values:\n  "
                + "\n  ".join(self.findings))


class GuardedContext:
    """A browser context whose pages are guarded; it checks them once more on close."""

    def __init__(self, context: Any, guard: Guard) -> None:
        self._context = context
        self._guard = guard

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def close(self) -> None:
        for page in self._context.pages:
            self._guard.check_now(page)
        self._context.close()


class GuardedBrowser:
    """The session's Chromium, but every context it opens is guarded."""

    def __init__(self, browser: Any, guard: Guard) -> None:
        self._browser = browser
        self.guard = guard
        self.contexts: list[GuardedContext] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def new_context(self, **options: Any) -> GuardedContext:
        context = self._browser.new_context(**options)
        self.guard.install(context)
        guarded = GuardedContext(context, self.guard)
        self.contexts.append(guarded)
        return guarded

    def new_page(self, **options: Any) -> Any:
        return self.new_context(**options).new_page()

    def finish(self) -> None:
        """Check the pages still open, close the contexts, and fail on any finding."""
        for context in self.contexts:
            try:
                pages = list(context.pages)
            except Exception:  # already closed by the test
                continue
            for page in pages:
                self.guard.check_now(page)
            context._context.close()
