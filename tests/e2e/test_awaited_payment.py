"""Finance records an awaited payment from the task list, in Chromium.

An application waits for its payment; the finance officer finds it in the task
list's "awaited messages", opens the payment form, types an NTPN that already paid
another bill and sees the refusal next to the NTPN field, naming that bill; with
the right NTPN the page returns to the task list and the entry is gone.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from engine.composition import Engine
from engine.time.clock import FrozenClock
from tests.people import add_users
from tests.processes.driver import NTPN, Driver
from tests.processes.entries import ALWAYS

from .conftest import screenshot, sign_in

KEY = "permohonan_sertifikasi"
PAYMENT = "pembayaran_diterima"
APPLICATION = {
    "produk": "BISKUIT", "sni": "SNI 2973:2022", "tipe_skema": "5",
    "jenis_permohonan": "baru", "makloon": False, "merek_milik_sendiri": True,
    "merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"}],
}
NTPN_ID = "Field_893cc56"  # the NTPN field of forms/pembayaran_diterima.form
DATE_ID = "Field_66d65d0"


def billed(driver: Driver, company: str) -> str:
    instance_id = driver.start(KEY, actor="eka.pt-contoh", company=company)
    driver.complete(instance_id, "p_ajukan_permohonan", APPLICATION,
                    documents=(*ALWAYS, "bukti_smm_cppob"))
    driver.complete(instance_id, "p_periksa_kelengkapan", {"dokumen_lengkap": True})
    driver.complete(instance_id, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Dalam ruang lingkup."})
    return instance_id


def test_finance_records_a_payment_from_the_task_list(
        engine: Engine, clock: FrozenClock, new_page: Any) -> None:
    add_users(engine, {"keu1": (["keuangan"], None)})
    driver = Driver(engine, clock)
    driver.deploy()
    paid = billed(driver, "PT Sudah Bayar")
    driver.pay(paid)
    paid_code = driver.variables(paid)["kode_billing"]
    waiting = billed(driver, "PT Menunggu Bayar")
    number = driver.business_key(waiting)
    assert number is not None

    page = new_page()
    sign_in(page, "keu1")
    page.goto("/tasks")
    row = page.locator("#awaited-table tbody tr").filter(has_text=number)
    expect(row).to_contain_text("PT Menunggu Bayar")
    expect(row).to_contain_text("Pembayaran diterima")
    screenshot(page, "awaited-payment-task-list", full_page=False)
    row.locator("a.record-link").click()
    page.wait_for_selector("#form[data-ready='true'] .fjs-form")
    expect(page.locator("#message-title")).to_contain_text("Pembayaran diterima")

    today = driver.today().isoformat()
    shown = page.evaluate(
        "iso => new Intl.DateTimeFormat().format(new Date(iso + 'T00:00:00'))", today)
    date_entry = page.locator(f"[id$='-{DATE_ID}-date']")
    date_entry.fill(shown)
    date_entry.press("Enter")
    page.locator(f"[id$='-{NTPN_ID}']").fill(NTPN)
    page.click("#complete")
    error = page.locator(f".fjs-form-field:has([id$='-{NTPN_ID}']) .fjs-form-field-error")
    expect(error).to_contain_text(f"NTPN ini sudah dipakai untuk tagihan {paid_code}")
    assert driver.waits_for(waiting, PAYMENT)

    page.locator(f"[id$='-{NTPN_ID}']").fill("9Z8Y7X6W5V4U3T2S")
    page.click("#complete")
    page.wait_for_url("**/tasks")
    expect(page.locator(".flash.ok")).to_contain_text("Pembayaran diterima")
    expect(page.locator("#awaited-table")).to_have_count(0)
    assert not driver.waits_for(waiting, PAYMENT)
    assert page.script_errors == []
