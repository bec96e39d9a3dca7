"""What the users of the process tests enter: valid form data, shared by several files.

The people (one user per role), the documents every application carries, the
application that sertifikasi_produk is called with and what each of its forms is
given, and the entries of the maintenance processes. ``DOC`` in a form's data
stands for a document that the driver uploads to the task first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class _Doc:
    """Marks a form field whose value is a document uploaded to the task first."""

    def __repr__(self) -> str:
        return "DOC"


DOC: Any = _Doc()

# One user per role; the engine leaves role checks to the API, but separation of
# duties is by user. Each test file's customer is of its own company.
USERS: dict[str, str] = {
    "pelanggan": "eka.pt-contoh",
    "upp": "ani.upp",
    "koordinator-pk": "budi.koordinator",
    "subkoordinator-sertifikasi": "citra.subkoordinator",
    "auditor": "dedi.auditor",
    "ppc": "fajar.ppc",
    "tim-teknis": "gita.tim-teknis",
    "kepala-balai": "hadi.kepala-balai",
    "administrasi": "rina.administrasi",
    "lead-auditor": "joko.lead-auditor",
}

# The staff the team proposal (s03) picks from: the form offers the active users of
# each role (valuesKey users:<role>) and the server refuses anyone else.
TEAM: dict[str, tuple[str, str]] = {
    "dedi.auditor": ("auditor", "Dedi Kurniawan"),
    "eko.auditor": ("auditor", "Eko Prasetyo"),
    "fajar.ppc": ("ppc", "Fajar Nugroho"),
    "lina.ppc": ("ppc", "Lina Marlina"),
    "gita.tim-teknis": ("tim-teknis", "Gita Permata"),
    "joko.tim-teknis": ("tim-teknis", "Joko Susilo"),
}

# The documents an application always carries (DOMAIN.md §4; the form requires them).
ALWAYS = (
    "surat_permohonan", "akta_pendirian", "nib_atau_iui", "npwp", "daftar_merek_kemasan",
    "sertifikat_merek", "desain_kemasan", "ilustrasi_tanda_sni", "struktur_organisasi",
    "diagram_alir_produksi", "daftar_pengendalian_mutu", "daftar_peralatan_produksi",
    "daftar_peralatan_lab", "daftar_informasi_terdokumentasi", "pernyataan_tidak_mengedarkan",
)


# -- sertifikasi_produk and the decision it calls ---------------------------------------------

BUSINESS_KEY = "PRM-2027-00001"
COMPANY = "PT Contoh Pangan Sejahtera"
# What the application process hands over when it calls sertifikasi_produk (CONTRACT.md).
APPLICATION: dict[str, Any] = {
    "nomor_permohonan": BUSINESS_KEY,
    "produk": "BISKUIT",
    "nama_produk": "Biskuit",
    "sni": "SNI 2973:2022",
    "tipe_skema": "5",
    "merek_kemasan": [{"merek": "Renyah", "kemasan": "Kotak karton 300 g"}],
}

# What each form needs besides its decision, as a user would fill it in.
ENTRIES: dict[str, dict[str, Any]] = {
    "s01_teruskan_dokumen_kerjasama": {"catatan_penerusan": "Perjanjian asli di arsip UPP."},
    "s02_tugaskan_subkoordinator": {
        "disposisi": "Siapkan kebutuhan sertifikasi PRM-2027-00001.",
        "dok_pernyataan_ketidakberpihakan": DOC},
    "s03_siapkan_usulan_tim": {
        "lead_auditor": "dedi.auditor", "anggota_auditor": [], "petugas_ppc": "fajar.ppc",
        "usulan_tim_teknis": ["gita.tim-teknis", "joko.tim-teknis"]},
    "s04_validasi_usulan_tim": {"nomor_surat_tugas": "ST-027/LSPro/III/2027"},
    "s05_serahkan_kecukupan_dokumen": {"rencana_audit_tahap1": "2027-03-08",
                                       "dok_surat_tugas": DOC},
    "s06_audit_tahap_1": {"dok_laporan_audit_tahap1": DOC},
    "e06_putuskan_kelanjutan_audit": {"catatan_kelanjutan_audit": "Auditor sakit."},
    "s07_tindak_lanjut_audit_tahap_1": {
        "tindak_lanjut_tahap1": "Daftar pengendalian mutu dilengkapi."},
    "s08_audit_tahap_2": {"tanggal_audit_tahap2": "2027-03-10", "dok_laporan_audit_tahap2": DOC},
    "s08_pengambilan_contoh": {
        "tanggal_pengambilan_contoh": "2027-03-10", "jumlah_contoh": 6,
        "laboratorium_penguji": "Laboratorium Pengujian BSPJI Manado",
        "dok_berita_acara_pengambilan_contoh": DOC},
    "s09_susun_laporan_audit": {"dok_laporan_ringkasan_audit": DOC},
    "s10_selesaikan_temuan": {"uraian_perbaikan": "Kalibrasi timbangan dilakukan.",
                              "dok_lembar_ketidaksesuaian_terjawab": DOC},
    "s11_evaluasi_tindak_lanjut": {},
    "x_kirim_surat_penghentian": {"tanggal_kirim_surat_penghentian": "2027-06-01",
                                  "cara_kirim_surat_penghentian": "pos"},
    "s12_siapkan_rapat_tim_teknis": {"anggota_tim_teknis": "gita.tim-teknis, joko.tim-teknis",
                                     "tanggal_rapat_tim_teknis": "2027-04-06"},
    "s13_bahas_dan_rekomendasi": {},
    "k13_kirim_surat_kekurangan": {"tanggal_kirim_surat_kekurangan": "2027-04-07",
                                   "cara_kirim_surat_kekurangan": "email"},
    "k13_klarifikasi_pelanggan": {"klarifikasi_pelanggan": "Label kemasan telah diperbaiki."},
    "m14_siapkan_perjanjian_tanda_sni": {"nomor_perjanjian_tanda_sni": "PTS-014/2027",
                                         "dok_perjanjian_tanda_sni": DOC},
    "m14_tandatangani_perjanjian_tanda_sni": {
        "penandatangan_perjanjian_tanda_sni": "Eka Putri", "jabatan_penandatangan": "Direktur",
        "dok_perjanjian_tanda_sni_ditandatangani": DOC},
    "s14_terbitkan_sertifikat": {"catatan_konsep_sertifikat": "Sesuai rekomendasi."},
    "s15_verifikasi_sertifikat": {},
    "a16_paraf_konsep_sertifikat": {},
    "s16_sahkan_sertifikat": {"catatan_pengesahan": "Disahkan."},
    "s17_serahkan_sertifikat": {"tanggal_serah_terima": "2027-04-09",
                                "penerima_sertifikat": "Eka Putri",
                                "dok_tanda_terima_sertifikat": DOC},
}

# What the gateways read, as the forms set it.
TIM_VALID = {"tim_valid": True}
TANPA_TEMUAN = {"temuan_tahap1": False}
ADA_TEMUAN = {"temuan_tahap1": True, "uraian_temuan_tahap1": "Daftar pengendalian mutu kurang."}
ADA_NCR = {"ada_ketidaksesuaian": True, "jumlah_ketidaksesuaian": 2,
           "dok_lembar_ketidaksesuaian": DOC}
TANPA_NCR = {"ada_ketidaksesuaian": False}
EFEKTIF = {"tindakan_efektif": True, "dok_laporan_audit_final": DOC}
BELUM_EFEKTIF = {"tindakan_efektif": False,
                 "catatan_evaluasi_tindak_lanjut": "Bukti kalibrasi belum dilampirkan."}
TERPENUHI = {"rekomendasi": "terpenuhi", "catatan_rekomendasi": "Memenuhi SNI 2973:2022."}
BELUM_TERPENUHI = {"rekomendasi": "belum_terpenuhi",
                   "catatan_rekomendasi": "Label kemasan belum mencantumkan kode produksi."}
SESUAI = {"konsep_sertifikat_sesuai": True}
DISETUJUI = {"konsep_disetujui": True}
# The laboratory's report (message hasil_uji_diterima).
HASIL_UJI = {"nomor_laporan_uji": "LHU-2027-0042", "hasil_uji_memenuhi": True}

# Up to the stage-1 audit, the same on every path.
TO_STAGE_1: list[tuple[str, Mapping[str, Any]]] = [
    ("s01_teruskan_dokumen_kerjasama", {}),
    ("s02_tugaskan_subkoordinator", {}),
    ("s03_siapkan_usulan_tim", {}),
    ("s04_validasi_usulan_tim", TIM_VALID),
    ("s05_serahkan_kecukupan_dokumen", {}),
]
# From the panel to the certificate in hand, when everything is in order.
GRANT: list[tuple[str, Mapping[str, Any]]] = [
    ("s12_siapkan_rapat_tim_teknis", {}),
    ("s13_bahas_dan_rekomendasi", TERPENUHI),
    ("m14_siapkan_perjanjian_tanda_sni", {}),
    ("m14_tandatangani_perjanjian_tanda_sni", {}),
    ("s14_terbitkan_sertifikat", {}),
    ("s15_verifikasi_sertifikat", SESUAI),
    ("a16_paraf_konsep_sertifikat", DISETUJUI),
    ("s16_sahkan_sertifikat", {}),
    ("s17_serahkan_sertifikat", {}),
]


# -- surveillance, suspension, revocation ------------------------------------------------------

AUDIT = {"tanggal_audit_surveilan": "2028-03-20", "catatan_audit_surveilan": "Sesuai"}
SAMPLING = {"tanggal_pengambilan_contoh_surveilan": "2028-03-20",
            "kode_contoh_surveilan": "CT-2028-017"}
NO_NCR = {"ada_ketidaksesuaian_surveilan": False, "nomor_laporan_uji_surveilan": "LHU-2028-9"}
NCR = {"ada_ketidaksesuaian_surveilan": True,
       "uraian_ketidaksesuaian_surveilan": "Pengendalian mutu air baku tidak direkam."}
CLOSED = {"tindakan_perbaikan_surveilan": "Rekaman uji air baku harian dibuat dan diperiksa."}
PROPOSAL = {"jangka_pembekuan_hari": 90,
            "pertimbangan_usulan_pembekuan": "Ketidaksesuaian tidak ditutup tepat waktu."}
SUSPEND = {"keputusan_pembekuan": "bekukan", "jangka_pembekuan_hari": 90,
           "catatan_keputusan_pembekuan": "Disetujui sesuai usulan."}
LETTER_SENT = {"tanggal_kirim_surat_pembekuan": "2028-06-20", "cara_kirim_surat_pembekuan": "pos"}
CORRECTION = {"uraian_koreksi_pembekuan": "Prosedur pengendalian mutu diperbaiki dan diaudit."}
REVOKE = {"pencabutan_disetujui": True, "pertimbangan_pencabutan": "Sesuai ketentuan S2."}
REVOCATION_SENT = {"tanggal_kirim_surat_pencabutan": "2028-04-01",
                   "tembusan_surat_pencabutan": ["kan", "instansi_daerah"]}
