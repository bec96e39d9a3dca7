"""The words of the e-mails, in Indonesian (the default) and English.

Every mail says in the reader's words what is asked, for which case (the
instance's business key, its process's name, the company), by when (the due
time in the organisation's time zone, written out in the reader's language) and
where to do it (a link to the page, when ``SERTIFLOW_PUBLIC_URL`` is set). No
ids, element ids or process keys appear in the text; only the link holds a task
id. Each mail has a plain text part and a simple HTML part.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

DEFAULT_LANGUAGE = "id"
LANGUAGES = ("id", "en")

# The pages a mail links to (served by api/web).
TASK_PATH = "/tasks/{task_id}"
TASKS_PATH = "/tasks"
SETTINGS_PATH = "/settings/notifications"

_DAYS = {"id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
         "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
_MONTHS = {"id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
                  "September", "Oktober", "November", "Desember"),
           "en": ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")}

# key -> (Indonesian, English), with str.format fields.
WORDS: dict[str, tuple[str, str]] = {
    "greeting": ("Yth. {name},", "Dear {name},"),
    "task.subject": ("Tugas baru: {title}", "New task: {title}"),
    "task.intro": ("Ada tugas baru yang menunggu Anda:", "A new task is waiting for you:"),
    "overdue.subject": ("Terlambat: {title}", "Overdue: {title}"),
    "overdue.intro": ("Tugas berikut melewati batas waktunya dan belum selesai:",
                      "This task is past its due time and not done yet:"),
    "mine_overdue.subject": ("Tugas Anda terlambat: {title}", "Your task is overdue: {title}"),
    "mine_overdue.intro": ("Tugas Anda melewati batas waktunya dan belum selesai:",
                           "Your task is past its due time and not done yet:"),
    "digest.subject": ("Ringkasan harian: {count} tugas menunggu Anda",
                       "Daily summary: {count} tasks waiting for you"),
    "digest.intro": ("Tugas yang menunggu Anda hari ini:", "The tasks waiting for you today:"),
    "digest.more": ("… dan {count} tugas lainnya.", "… and {count} more tasks."),
    "digest.overdue": ("terlambat", "overdue"),
    "for": ("Untuk", "For"),
    "company": ("Perusahaan", "Company"),
    "due": ("Batas waktu", "Due"),
    "roles": ("Peran", "Roles"),
    "assignee": ("Dikerjakan oleh", "Taken by"),
    "nobody": ("belum ada", "nobody yet"),
    "untitled": ("Langkah dalam {process}", "A step of {process}"),
    "a_process": ("sebuah proses", "a process"),
    "open": ("Buka tugas", "Open the task"),
    "open_list": ("Buka daftar tugas", "Open the task list"),
    "no_link": ("Buka sertiflow dan lihat menu Tugas.",
                "Open sertiflow and look at the Tasks menu."),
    "footer": ("Surel ini dikirim otomatis oleh sertiflow. Pemberitahuan surel dapat Anda "
               "atur di halaman Pengaturan pemberitahuan.",
               "This e-mail was sent automatically by sertiflow. You can change your e-mail "
               "notifications on the Notification settings page."),
    "at": ("pukul", "at"),
}


def language_of(preferred: str | None) -> str:
    """The user's language if sertiflow writes it, else Indonesian."""
    return preferred if preferred in LANGUAGES else DEFAULT_LANGUAGE


def word(lang: str, key: str, **fields: object) -> str:
    indonesian, english = WORDS[key]
    text = english if lang == "en" else indonesian
    return text.format(**fields) if fields else text


def when(moment: datetime, lang: str, zone: tzinfo) -> str:
    """A moment in the organisation's time zone: "Senin, 1 Maret 2027 pukul 11.00 WIB"."""
    local = moment.astimezone(zone)
    clock = f"{local:%H.%M}" if lang == "id" else f"{local:%H:%M}"
    return (f"{_DAYS[lang][local.weekday()]}, {local.day} {_MONTHS[lang][local.month - 1]} "
            f"{local.year} {word(lang, 'at')} {clock} {local.tzname() or ''}").rstrip()


@dataclass(frozen=True)
class TaskFacts:
    """What a mail tells of one task, read from its rows."""

    task_id: str
    title: str | None
    process: str | None  # the process's name as drawn, not its key
    business_key: str | None
    company: str | None
    due_at: datetime | None
    roles: Sequence[str] = ()
    assignee: str | None = None  # the assignee's name as people know it

    def name(self, lang: str) -> str:
        return self.title or word(lang, "untitled", process=self.process or
                                  word(lang, "a_process"))

    def case(self) -> str:
        """The case the task belongs to: "APP-5 · Application" (what is known of it)."""
        return " · ".join(p for p in (self.business_key, self.process) if p)


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


class Writer:
    """Writes mails in one language, dated in one time zone, linking to one site."""

    def __init__(self, lang: str, zone: tzinfo, public_url: str | None) -> None:
        self.lang = language_of(lang)
        self.zone = zone
        self.base = public_url.rstrip("/") if public_url else None

    def link(self, path: str) -> str | None:
        if self.base is None:
            return None
        return self.base + path + ("?lang=en" if self.lang == "en" else "")

    def task_mail(self, kind: str, reader: str, facts: TaskFacts) -> Mail:
        """``kind``: "task" (new work), "overdue" (to whom it escalates), "mine_overdue"."""
        lang = self.lang
        lines: list[tuple[str | None, str]] = [(None, facts.name(lang))]
        if facts.case():
            lines.append((word(lang, "for"), facts.case()))
        if facts.company:
            lines.append((word(lang, "company"), facts.company))
        if facts.due_at is not None:
            lines.append((word(lang, "due"), when(facts.due_at, lang, self.zone)))
        if kind == "overdue":
            lines.append((word(lang, "roles"), ", ".join(facts.roles) or "-"))
            lines.append((word(lang, "assignee"), facts.assignee or word(lang, "nobody")))
        link = self.link(TASK_PATH.format(task_id=facts.task_id))
        subject = word(lang, f"{kind}.subject", title=facts.name(lang))
        if facts.business_key:
            subject += f" ({facts.business_key})"
        return self._mail(subject, reader, word(lang, f"{kind}.intro"), [lines],
                          (word(lang, "open"), link))

    def digest(self, reader: str, tasks: Sequence[TaskFacts], more: int,
               now: datetime) -> Mail:
        lang = self.lang
        blocks = []
        for facts in tasks:
            lines: list[tuple[str | None, str]] = [(None, facts.name(lang))]
            if facts.case():
                lines.append((word(lang, "for"), facts.case()))
            if facts.company:
                lines.append((word(lang, "company"), facts.company))
            if facts.due_at is not None:
                late = f" ({word(lang, 'digest.overdue')})" if facts.due_at < now else ""
                lines.append((word(lang, "due"), when(facts.due_at, lang, self.zone) + late))
            blocks.append(lines)
        subject = word(lang, "digest.subject", count=len(tasks) + more)
        tail = word(lang, "digest.more", count=more) if more else None
        return self._mail(subject, reader, word(lang, "digest.intro"), blocks,
                          (word(lang, "open_list"), self.link(TASKS_PATH)), tail=tail)

    def _mail(self, subject: str, reader: str, intro: str,
              blocks: Sequence[Sequence[tuple[str | None, str]]],
              action: tuple[str, str | None], *, tail: str | None = None) -> Mail:
        lang = self.lang
        label, link = action
        text = [word(lang, "greeting", name=reader), "", intro, ""]
        markup = [f"<p>{_e(word(lang, 'greeting', name=reader))}</p>", f"<p>{_e(intro)}</p>"]
        for lines in blocks:
            for caption, value in lines:
                text.append(f"  {caption}: {value}" if caption else f"- {value}")
            text.append("")
            items = "".join(f"<li>{_e(caption)}: {_e(value)}</li>" for caption, value in lines
                            if caption)
            heading = next(value for caption, value in lines if caption is None)
            markup.append(f"<p><strong>{_e(heading)}</strong></p><ul>{items}</ul>")
        if tail:
            text += [tail, ""]
            markup.append(f"<p>{_e(tail)}</p>")
        if link:
            text += [f"{label}: {link}", ""]
            markup.append(f'<p><a href="{_e(link)}">{_e(label)}</a></p>')
        else:
            text += [word(lang, "no_link"), ""]
            markup.append(f"<p>{_e(word(lang, 'no_link'))}</p>")
        footer = word(lang, "footer")
        settings = self.link(SETTINGS_PATH)
        text += ["--", footer + (f" {settings}" if settings else "")]
        markup.append(f'<p style="color:#666;font-size:small">{_e(footer)}'
                      + (f' <a href="{_e(settings)}">{_e(settings)}</a>' if settings else "")
                      + "</p>")
        page = ('<!doctype html><html lang="{lang}"><body style="font-family:sans-serif">'
                '{body}</body></html>').format(lang=lang, body="".join(markup))
        return Mail(subject[:200], "\n".join(text) + "\n", page)


def _e(text: str) -> str:
    return html.escape(text, quote=True)
