"""The finance role's mail about an awaited payment, on the LSPro's own process, opens
the form that records it.

The application process waits for its payment (``recordedBy`` keuangan) once the
application is accepted: the role hears of it by e-mail (a real local SMTP
server), with the event's name as drawn, the case, the payment deadline, and a
link that a finance officer signed in to the pages can follow to record it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.composition import Engine
from engine.models import Notification
from engine.notifications.mailer import Mailer, SmtpSettings
from engine.notifications.texts import when
from engine.time.clock import FrozenClock
from tests.engine import mailbox
from tests.engine.mailbox import Inbox
from tests.people import COMPANY, add_users
from tests.processes.driver import Driver
from tests.processes.entries import ALWAYS

PUBLIC = "https://sertiflow.example.go.id"
PAYMENT = "pembayaran_diterima"
APPLICATION = {
    "produk": "BISKUIT", "sni": "SNI 2973:2022", "tipe_skema": "5",
    "jenis_permohonan": "baru", "makloon": False, "merek_milik_sendiri": True,
    "merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"}],
}


# A real local SMTP server (an aiosmtpd controller on a free port).
inbox = mailbox.inbox


def test_the_payment_mail_links_to_the_form_that_records_it(
        web_engine: Engine, clock: FrozenClock, inbox: tuple[Inbox, int], browser: Any) -> None:
    box, port = inbox
    add_users(web_engine, {"keu1": (["keuangan"], None)})
    with web_engine.write() as s:
        s.identity.user("keu1").email = "keu1@lspro.example"
    driver = Driver(web_engine, clock)
    driver.deploy()
    instance_id = driver.start("permohonan_sertifikasi", actor="eka.pt-contoh",
                               company=COMPANY)
    driver.complete(instance_id, "p_ajukan_permohonan", APPLICATION,
                    documents=(*ALWAYS, "bukti_smm_cppob"))
    driver.complete(instance_id, "p_periksa_kelengkapan", {"dokumen_lengkap": True})
    driver.complete(instance_id, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Dalam ruang lingkup."})
    assert driver.waits_for(instance_id, PAYMENT)
    deadline = datetime.fromisoformat(driver.variables(instance_id)["batas_pembayaran"])
    business_key = driver.instance(instance_id).business_key
    assert business_key

    with web_engine.write() as s:
        (note,) = s.session.scalars(sa.select(Notification).where(
            Notification.kind == "message_awaited")).all()
        assert (note.instance_id, note.recipient_role) == (instance_id, "keuangan")
        settings = web_engine.settings
        mailer = Mailer(s.session, clock, SmtpSettings(host="127.0.0.1", port=port),
                        public_url=PUBLIC, timezone=settings.timezone, awaited=s.awaited)
        assert mailer.send_pending() >= 1
    mails = box.mails()
    (mail,) = [m for to, m in mails if to == ["keu1@lspro.example"]
               and "Menunggu dicatat" in m["Subject"]]
    assert mail["Subject"] == f"[sertiflow] Menunggu dicatat: Pembayaran diterima ({business_key})"
    text = str(mail.get_body(("plain",)).get_content())
    assert f"Perusahaan: {COMPANY}" in text
    assert f"Batas waktu: {when(deadline, 'id', settings.timezone)}" in text
    found = re.search(r"Catat sekarang: (\S+)", text)
    assert found is not None
    link = found.group(1)
    assert link == f"{PUBLIC}/instances/{instance_id}/messages/{PAYMENT}?back=tasks"

    # The link, followed by a finance officer signed in, is the payment's form.
    page = browser("keu1").page(link.removeprefix(PUBLIC))
    assert page.status_code == 200
    assert "Pembayaran diterima" in page.get_data(as_text=True)
