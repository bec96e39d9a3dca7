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
from urllib.parse import quote

DEFAULT_LANGUAGE = "id"
LANGUAGES = ("id", "en")

# The pages a mail links to (served by api/web).
TASK_PATH = "/tasks/{task_id}"
TASKS_PATH = "/tasks"
SETTINGS_PATH = "/settings/notifications"
# Recording an awaited message, back to the task list afterwards (api/web/messages.py).
MESSAGE_PATH = "/instances/{instance_id}/messages/{name}?back=tasks"

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
    "assigned.subject": ("Tugas diserahkan kepada Anda: {title}",
                         "Task handed over to you: {title}"),
    "assigned.intro": ("Tugas berikut diserahkan kepada Anda:",
                       "This task has been handed over to you:"),
    "awaited.subject": ("Menunggu dicatat: {title}", "Waiting to be recorded: {title}"),
    "awaited.intro": ("Sebuah proses menunggu hal berikut, yang dicatat oleh bagian Anda:",
                      "A case is waiting for the following, which your team records:"),
    "awaited.open": ("Catat sekarang", "Record it"),
    "awaited.digest": ("Yang perlu dicatat oleh bagian Anda:",
                       "Waiting to be recorded by your team:"),
    "a_message": ("Pesan yang ditunggu", "An awaited message"),
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
class AwaitedFacts:
    """What a mail tells of a message an instance waits for and a role records."""

    instance_id: str
    message: str  # the message's name, for the link only
    label: str | None  # the catching event's name as drawn ("Pembayaran diterima")
    process: str | None
    business_key: str | None
    company: str | None
    deadline: datetime | None

    def name(self, lang: str) -> str:
        return self.label or word(lang, "a_message")

    def case(self) -> str:
        return " · ".join(p for p in (self.business_key, self.process) if p)


# A task or message as lines: (None, its name) first, then (caption, value) pairs.
Block = list[tuple[str | None, str]]
# Words before some blocks (the words alone when there are none).
Section = tuple[str | None, Sequence[Block]]


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
        if self.lang == "en":  # the page in the reader's language
            path += ("&" if "?" in path else "?") + "lang=en"
        return self.base + path

    def task_mail(self, kind: str, reader: str, facts: TaskFacts) -> Mail:
        """``kind``: "task" (new work), "assigned" (handed over), "overdue" (to whom it
        escalates), "mine_overdue"."""
        lang = self.lang
        lines = self._lines(facts, None)
        if kind == "overdue":
            lines.append((word(lang, "roles"), ", ".join(facts.roles) or "-"))
            lines.append((word(lang, "assignee"), facts.assignee or word(lang, "nobody")))
        link = self.link(TASK_PATH.format(task_id=facts.task_id))
        subject = word(lang, f"{kind}.subject", title=facts.name(lang))
        if facts.business_key:
            subject += f" ({facts.business_key})"
        return self._mail(subject, reader, [(word(lang, f"{kind}.intro"), [lines])],
                          (word(lang, "open"), link))

    def awaited_mail(self, reader: str, facts: AwaitedFacts) -> Mail:
        """To a role's members: an instance waits for a message they record."""
        lang = self.lang
        link = self.link(MESSAGE_PATH.format(instance_id=facts.instance_id,
                                             name=quote(facts.message, safe="")))
        subject = word(lang, "awaited.subject", title=facts.name(lang))
        if facts.business_key:
            subject += f" ({facts.business_key})"
        return self._mail(subject, reader,
                          [(word(lang, "awaited.intro"), [self._lines(facts, None)])],
                          (word(lang, "awaited.open"), link))

    def digest(self, reader: str, tasks: Sequence[TaskFacts], more: int, now: datetime,
               awaited: Sequence[AwaitedFacts] = (), awaited_more: int = 0) -> Mail:
        """What waits for a reader: their tasks, then the messages their roles record."""
        lang = self.lang
        blocks = [self._lines(facts, now) for facts in tasks]
        count = len(tasks) + more + len(awaited) + awaited_more
        subject = word(lang, "digest.subject", count=count)
        sections: list[Section] = []
        if tasks:
            tail = word(lang, "digest.more", count=more) if more else None
            sections.append((word(lang, "digest.intro"), blocks))
            if tail:
                sections.append((tail, []))
        if awaited:
            sections.append((word(lang, "awaited.digest"),
                             [self._lines(facts, now) for facts in awaited]))
            if awaited_more:
                sections.append((word(lang, "digest.more", count=awaited_more), []))
        return self._mail(subject, reader, sections,
                          (word(lang, "open_list"), self.link(TASKS_PATH)))

    def _lines(self, facts: TaskFacts | AwaitedFacts, now: datetime | None) -> Block:
        """A task or an awaited message as lines; ``now`` marks a passed deadline late."""
        lang = self.lang
        lines: Block = [(None, facts.name(lang))]
        if facts.case():
            lines.append((word(lang, "for"), facts.case()))
        if facts.company:
            lines.append((word(lang, "company"), facts.company))
        due = facts.due_at if isinstance(facts, TaskFacts) else facts.deadline
        if due is not None:
            late = (f" ({word(lang, 'digest.overdue')})"
                    if now is not None and due < now else "")
            lines.append((word(lang, "due"), when(due, lang, self.zone) + late))
        return lines

    def _mail(self, subject: str, reader: str, sections: Sequence[Section],
              action: tuple[str, str | None]) -> Mail:
        """A mail: the greeting, each section's words and blocks, the action's link, the
        footer."""
        lang = self.lang
        label, link = action
        text = [word(lang, "greeting", name=reader), ""]
        markup = [f"<p>{_e(word(lang, 'greeting', name=reader))}</p>"]
        for heading, section in sections:
            if heading:
                text += [heading, ""]
                markup.append(f"<p>{_e(heading)}</p>")
            self._blocks(section, text, markup)
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

    @staticmethod
    def _blocks(blocks: Sequence[Block], text: list[str], markup: list[str]) -> None:
        for lines in blocks:
            for caption, value in lines:
                text.append(f"  {caption}: {value}" if caption else f"- {value}")
            text.append("")
            items = "".join(f"<li>{_e(caption)}: {_e(value)}</li>" for caption, value in lines
                            if caption)
            heading = next(value for caption, value in lines if caption is None)
            markup.append(f"<p><strong>{_e(heading)}</strong></p><ul>{items}</ul>")


def _e(text: str) -> str:
    return html.escape(text, quote=True)
