"""Who does each user task of the LSPro's processes, and by when, as the files say.

Element id -> (the role of the task's lane, its ``camunda:dueDate`` as written, or
None where the due date is an expression). The driver (driver.py) checks every task
it completes against these tables; the tests of each file also check the file
itself against its own table.
"""

from __future__ import annotations

# processes/sertifikasi_produk.bpmn: SOP AP 2.2.1-3 steps 1-11, its escalation and its stop.
SOP_STEPS: dict[str, tuple[str, str]] = {
    "s01_teruskan_dokumen_kerjasama": ("upp", "PT1H"),
    "s02_tugaskan_subkoordinator": ("koordinator-pk", "PT30M"),
    "s03_siapkan_usulan_tim": ("subkoordinator-sertifikasi", "P1D"),
    "s04_validasi_usulan_tim": ("koordinator-pk", "P1D"),
    "s05_serahkan_kecukupan_dokumen": ("subkoordinator-sertifikasi", "PT1H"),
    "s06_audit_tahap_1": ("auditor", "P14D"),
    "s07_tindak_lanjut_audit_tahap_1": ("pelanggan", "P14D"),
    "s08_audit_tahap_2": ("auditor", "P2D"),
    "s08_pengambilan_contoh": ("ppc", "P2D"),
    "s09_susun_laporan_audit": ("auditor", "PT3H"),
    "s10_selesaikan_temuan": ("pelanggan", "P60D"),
    "s11_evaluasi_tindak_lanjut": ("auditor", "P1D"),
    "e06_putuskan_kelanjutan_audit": ("subkoordinator-sertifikasi", "P1D"),
    "x_kirim_surat_penghentian": ("upp", "P1D"),
}
# processes/keputusan_sertifikasi.bpmn: steps 12-17 with the Manado grant procedure.
DECISION_STEPS: dict[str, tuple[str, str]] = {
    "s12_siapkan_rapat_tim_teknis": ("subkoordinator-sertifikasi", "P1D"),
    "s13_bahas_dan_rekomendasi": ("tim-teknis", "P1D"),
    "k13_kirim_surat_kekurangan": ("tim-teknis", "P1D"),
    "k13_klarifikasi_pelanggan": ("pelanggan", "P14D"),
    "m14_siapkan_perjanjian_tanda_sni": ("upp", "P1D"),
    "m14_tandatangani_perjanjian_tanda_sni": ("pelanggan", "P14D"),
    "s14_terbitkan_sertifikat": ("subkoordinator-sertifikasi", "P1D"),
    "s15_verifikasi_sertifikat": ("koordinator-pk", "PT1H"),
    "a16_paraf_konsep_sertifikat": ("kepala-balai", "PT1H"),
    "s16_sahkan_sertifikat": ("kepala-balai", "PT1H"),
    "s17_serahkan_sertifikat": ("upp", "PT1H"),
}
# processes/permohonan_sertifikasi.bpmn: the application (Manado M1-M4).
APPLICATION_STEPS: dict[str, tuple[str, str]] = {
    "p_ajukan_permohonan": ("pelanggan", "P14D"),
    "p_periksa_kelengkapan": ("administrasi", "P1D"),
    "p_lengkapi_dokumen": ("pelanggan", "P14D"),
    "p_kaji_ulang_permohonan": ("subkoordinator-sertifikasi", "P2D"),
    "p_siapkan_perjanjian": ("upp", "P1D"),
    "p_tandatangani_perjanjian": ("pelanggan", "P14D"),
}
# processes/keluhan.bpmn, banding.bpmn and sengketa_merek.bpmn (DOMAIN.md §6.3-§6.5).
CASE_STEPS: dict[str, tuple[str, str]] = {
    "kl_ajukan_keluhan": ("pelanggan", "P14D"),
    "kl_kirim_tanda_terima": ("administrasi", "P1D"),
    "kl_periksa_keluhan": ("subkoordinator-sertifikasi", "PT2H"),
    "kl_telusuri_keterlambatan": ("subkoordinator-sertifikasi", "P1D"),
    "kl_tetapkan_pencegahan": ("subkoordinator-sertifikasi", "P2D"),
    "kl_kirim_surat_permohonan_maaf": ("administrasi", "P1D"),
    "kl_jawab_keluhan": ("subkoordinator-sertifikasi", "P2D"),
    "kl_kirim_jawaban": ("administrasi", "P1D"),
    "bd_ajukan_banding": ("pelanggan", "P14D"),
    "bd_catat_banding": ("administrasi", "P1D"),
    "bd_disposisi": ("kepala-balai", "P1D"),
    "bd_periksa_banding": ("koordinator-pk", "P2D"),
    "bd_putuskan_koreksi": ("koordinator-pk", "P1D"),
    "bd_bentuk_panel": ("kepala-balai", "P1D"),
    "bd_sidang_banding": ("tim-teknis", "P5D"),
    "bd_kirim_surat_hasil": ("administrasi", "P1D"),
    "sg_catat_sengketa": ("koordinator-pk", "P1D"),
    "sg_periksa_merek": ("koordinator-pk", "P2D"),
    "sg_informasikan_penangguhan": ("administrasi", "P1D"),
    "sg_tetapkan_lingkup": ("koordinator-pk", "P2D"),
    "sg_kirim_surat_kelanjutan": ("administrasi", "P1D"),
}
# processes/surveilan_sertifikat.bpmn, pembekuan_sertifikat.bpmn, pencabutan_sertifikat.bpmn.
MAINTENANCE_STEPS: dict[str, tuple[str, str | None]] = {
    "sv_audit_surveilan": ("lead-auditor", "P2D"),
    "sv_pengambilan_contoh": ("ppc", "P2D"),
    "sv_laporan_surveilan": ("lead-auditor", "PT3H"),
    "sv_tutup_ketidaksesuaian": ("pelanggan", "P60D"),
    "sv_evaluasi_tindakan": ("lead-auditor", "P1D"),
    "sv_pengingat_resertifikasi": ("pelanggan", "P30D"),
    "bk_catat_pembekuan": ("subkoordinator-sertifikasi", "P1D"),
    "bk_usulan_pembekuan": ("subkoordinator-sertifikasi", "P1D"),
    "bk_putuskan_pembekuan": ("kepala-balai", "P1D"),
    "bk_kirim_surat_pembekuan": ("administrasi", "P1D"),
    "bk_koreksi_pelanggan": ("pelanggan", None),  # due at the end of the suspension
    "bk_evaluasi_koreksi": ("subkoordinator-sertifikasi", "P5D"),
    "bk_kirim_surat_pemulihan": ("administrasi", "P1D"),
    "pc_catat_pencabutan": ("subkoordinator-sertifikasi", "P1D"),
    "pc_putuskan_pencabutan": ("kepala-balai", "P1D"),
    "pc_kirim_surat_pencabutan": ("administrasi", "P1D"),
}
USER_TASKS: dict[str, tuple[str, str | None]] = {
    **SOP_STEPS, **DECISION_STEPS, **APPLICATION_STEPS, **CASE_STEPS, **MAINTENANCE_STEPS}

# Tasks whose camunda:candidateGroups name roles beside their lane's.
MORE_ROLES: dict[str, tuple[str, ...]] = {"bk_evaluasi_koreksi": ("auditor",)}

# Who may not recommend, initial or sign: whoever evaluated the application
# (camunda:property excludeCompletersOf of s13, a16 and s16).
EVALUATORS = ("s06_audit_tahap_1,s08_audit_tahap_2,s08_pengambilan_contoh,"
              "s09_susun_laporan_audit,s11_evaluasi_tindak_lanjut")
