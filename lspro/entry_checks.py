"""Checks of what staff enter on the LSPro's forms, against its own records.

The engine checks a submission against its form (types, required fields,
patterns); these checks ask what only the LSPro knows, before anything is
stored (``Setup.check``):

* the payment form (message ``pembayaran_diterima``): the e-Billing code exists
  and is still payable, the NTPN is well formed and not used for another bill,
  the payment date is neither in the future nor past the bill's deadline;
* the completeness check (``p_periksa_kelengkapan``): "complete" cannot be
  answered while the system still misses required documents.

Each refusal names the field and says, in the staff's words, what to correct.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.extensions import Entry
from lspro.billing import BillingService

PAYMENT_FORM = "pembayaran_diterima"
COMPLETENESS_FORM = "p_periksa_kelengkapan"


def check_payment(entry: Entry) -> Mapping[str, str]:
    """The payment form: everything ``BillingService.confirm`` would refuse, on its field."""
    values = entry.values
    code = values.get("kode_billing")
    if not code:  # the form's own check already refuses a missing code
        return {}
    billing = entry.services.get(BillingService)
    problems = billing.payment_problems(str(code), str(values.get("ntpn") or ""),
                                        values.get("tanggal_bayar") or "")
    awaited = entry.variables.get("kode_billing")
    if "kode_billing" not in problems and awaited and str(awaited) != str(code).strip():
        problems["kode_billing"] = (f"Proses ini menunggu pembayaran tagihan {awaited}, "
                                    f"bukan {str(code).strip()}.")
    return problems


def check_completeness(entry: Entry) -> Mapping[str, str]:
    """"Dokumen lengkap? Ya" while required documents are still missing is refused."""
    if entry.values.get("dokumen_lengkap") is not True:
        return {}
    missing = _labels(entry.variables.get("dokumen_kurang"))
    if not missing:
        return {}
    return {"dokumen_lengkap": ("Dokumen belum lengkap: " + "; ".join(missing)
                                + ". Pilih \"Tidak\" dan tulis yang harus dilengkapi "
                                "pelanggan pada catatan.")}


def _labels(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [str(item) for item in value if str(item).strip()]
    return []


CHECKS = {PAYMENT_FORM: check_payment, COMPLETENESS_FORM: check_completeness}
