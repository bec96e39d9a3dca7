"""What the e-mail notification tests share: a real local SMTP server, an engine mailing to it.

``mailing`` gives an engine whose clock stands before the day's digest hour, with
users of every setting and language, and two small processes: a customer's task
(``ask``) and a review by the ``upp`` role (``review``).
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from engine.composition import Engine
from engine.config import Settings
from engine.notifications.mailer import SmtpSettings
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from lspro import LsproExtension
from tests.builders import definitions, process
from tests.settings import LSPRO

COMPANY, OTHER_COMPANY = "PT Maju Jaya", "PT Lain Sekali"
PUBLIC = "https://sertiflow.example.go.id"
# Monday 1 March 2027, 22:00 UTC: Tuesday 2 March, 05:00 in Jakarta, before the digest hour.
EARLY = datetime(2027, 3, 1, 22, 0, tzinfo=UTC)

ASK_CUSTOMER = definitions("ask", process("ask", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fix" />
    <bpmn:userTask id="fix" name="Lengkapi dokumen" camunda:candidateGroups="pelanggan"
      camunda:dueDate="P2D" />
    <bpmn:sequenceFlow id="f2" sourceRef="fix" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name="Pengajuan layanan"))

REVIEW = definitions("review", process("review", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:userTask id="check" name="Periksa kelengkapan" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="approve" />
    <bpmn:userTask id="approve" name="Setujui" camunda:assignee="every" />
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name="Tinjauan"))


@dataclass
class Inbox:
    messages: list[Any]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def mails(self) -> list[tuple[list[str], email.message.EmailMessage]]:
        """Each mail as (its envelope's recipients, the parsed message)."""
        return [(list(e.rcpt_tos), email.message_from_bytes(
            e.content, policy=email.policy.default)) for e in self.messages]

    def take(self) -> list[tuple[list[str], email.message.EmailMessage]]:
        found = self.mails()
        self.messages.clear()
        return found


def text_of(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def html_of(message: Any) -> str:
    return str(message.get_body(("html",)).get_content())


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox([])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def mailing(settings: Settings, inbox: tuple[Inbox, int]) -> Iterator[tuple[Engine, Inbox]]:
    box, port = inbox
    engine = Engine(replace(settings, public_url=PUBLIC, smtp=SmtpSettings(
        host="127.0.0.1", port=port, sender="lspro@example.go.id", digest_hour=7)),
        clock=FrozenClock(EARLY), extensions=[LsproExtension(LSPRO)])
    people = {  # name -> (roles, company, e-mail, setting, language)
        "cust1": (["pelanggan"], COMPANY, "cust1@maju.example", "every", "id"),
        "cust2": (["pelanggan"], OTHER_COMPANY, "cust2@lain.example", "every", "id"),
        "every": (["upp"], None, "every@lspro.example", "every", "id"),
        "english": (["upp"], None, "english@lspro.example", "every", "en"),
        "digest": (["upp"], None, "digest@lspro.example", "digest", "id"),
        "quiet": (["upp"], None, "quiet@lspro.example", "none", "id"),
        "nomail": (["upp"], None, None, "every", "id"),
        "gone": (["upp"], None, "gone@lspro.example", "every", "id"),
    }
    with engine.write() as s:
        for name, (roles, company, address, notify, language) in people.items():
            user = s.identity.add_user(name, "a-long-password", roles=roles, company=company)
            user.email, user.notify, user.language = address, notify, language
            user.display_name = name.capitalize()
        s.identity.set_active("gone", False)
        s.deployments.deploy([("ask.bpmn", ASK_CUSTOMER.encode()),
                              ("review.bpmn", REVIEW.encode())])
    yield engine, box
    engine.close()


def sweep(engine: Engine) -> int:
    return TimerSweep(engine).run_sla_once()[1]


def frozen(engine: Engine) -> FrozenClock:
    clock = engine.clock
    assert isinstance(clock, FrozenClock)
    return clock
