"""Which of an application's documents the customer sees: the LSPro's one table.

A document's kind is the form field it came through (``forms/*.form``
filepickers) or the field a generated letter is stored under
(``lspro.letters``). Kinds not named here are internal: a new form's upload
stays with staff until someone decides the customer should see it. A
customer always sees what a customer uploaded, whatever its kind (the engine's
rule, ``engine.documents.visibility``).

Internal, by ISO/IEC 17065 §4.2 and §4.5: impartiality declarations, the
team proposal, assignment letters, audit working papers and the reports the
technical team decides on, sampling records, laboratory reports as received,
the certificate's draft, panel minutes and the evidence of a suspension.
For the customer: what is addressed to them or asks them to act — letters,
the agreements, the certificate, bills and receipts, the stage-1 audit report
and the nonconformity sheets they answer (SOP steps 7 and 10 show these in
the customer's own forms), the audit plan of their audit.
"""

from __future__ import annotations

from typing import Final

from engine.documents.visibility import CUSTOMER, INTERNAL

from .letters import RECEIPT, TEMPLATES

# Letters the server generates: all are addressed to the customer.
_LETTERS = {f"dokumen_{key}": CUSTOMER for key in [*TEMPLATES, RECEIPT.key]}

DOCUMENT_VISIBILITY: Final[dict[str, str]] = {
    **_LETTERS,
    "dokumen_sertifikat": CUSTOMER,
    "dokumen_tagihan": CUSTOMER,
    # the application's 20 documents (p_ajukan_permohonan, p_lengkapi_dokumen)
    **{f"dok_{name}": CUSTOMER for name in (
        "surat_permohonan", "akta_pendirian", "nib_atau_iui", "npwp", "daftar_merek_kemasan",
        "sertifikat_merek", "perjanjian_lisensi", "perjanjian_makloon", "desain_kemasan",
        "ilustrasi_tanda_sni", "struktur_organisasi", "diagram_alir_produksi",
        "daftar_pengendalian_mutu", "daftar_peralatan_produksi", "daftar_peralatan_lab",
        "bukti_smm_cppob", "daftar_informasi_terdokumentasi", "pernyataan_tidak_mengedarkan",
        "uji_bahan_baku", "sppt_sni_lama")},
    # agreements: the LSPro's side and the customer's signed copies
    "dok_perjanjian_lspro": CUSTOMER,
    "dok_perjanjian_ditandatangani": CUSTOMER,
    "dok_perjanjian_tanda_sni": CUSTOMER,
    "dok_perjanjian_tanda_sni_ditandatangani": CUSTOMER,
    # the audit, as far as it is the customer's to answer
    "dok_audit_plan": CUSTOMER,
    "dok_laporan_audit_tahap1": CUSTOMER,
    "dok_tindak_lanjut_tahap1": CUSTOMER,
    "dok_lembar_ketidaksesuaian": CUSTOMER,
    "dok_lembar_ketidaksesuaian_terjawab": CUSTOMER,
    "dok_klarifikasi_pelanggan": CUSTOMER,
    "dok_tanda_terima_sertifikat": CUSTOMER,
    # complaints, appeals, suspension, surveillance: the customer's side
    "lampiran_keluhan": CUSTOMER,
    "dokumen_jawaban_keluhan": CUSTOMER,
    "lampiran_banding": CUSTOMER,
    "dokumen_surat_pembekuan": CUSTOMER,
    "dokumen_surat_pemulihan": CUSTOMER,
    "dokumen_surat_pencabutan": CUSTOMER,
    "bukti_koreksi_pembekuan": CUSTOMER,
    "dokumen_laporan_surveilan": CUSTOMER,
    "bukti_perbaikan_surveilan": CUSTOMER,
    # named so that a reader sees they were decided, not forgotten
    "dok_pernyataan_ketidakberpihakan": INTERNAL,
    "dok_draft_tim": INTERNAL,
    "dok_surat_tugas": INTERNAL,
    "dok_laporan_audit_tahap2": INTERNAL,
    "dok_laporan_ringkasan_audit": INTERNAL,
    "dok_laporan_verifikasi": INTERNAL,
    "dok_laporan_audit_final": INTERNAL,
    "dok_laporan_review": INTERNAL,
    "dok_berita_acara_pengambilan_contoh": INTERNAL,
    "dok_laporan_hasil_uji": INTERNAL,
    "dok_konsep_sertifikat": INTERNAL,
    # the draft certificate.draft renders for steps 15 and 16 (not yet a certificate)
    "dokumen_konsep_sertifikat": INTERNAL,
    "berita_acara_sidang": INTERNAL,
    "bukti_pelanggaran": INTERNAL,
    "dokumen_audit_surveilan": INTERNAL,
    "dokumen_pengambilan_contoh_surveilan": INTERNAL,
}
