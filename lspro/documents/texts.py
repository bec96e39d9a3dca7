"""What the LSPro's letters say: one :class:`LetterTemplate` per kind of letter.

The words are data; ``lspro/templates/lspro/documents/`` lays them out (the
``layout`` of a template names the file). The keys are those of
``processes/CONTRACT.md`` (``letter.generate``'s ``template`` property).
"""

from __future__ import annotations

from dataclasses import dataclass

KAN = "Komite Akreditasi Nasional (KAN)"
REGIONAL = "Instansi terkait di daerah tempat perusahaan berada"


@dataclass(frozen=True)
class LetterTemplate:
    """One kind of letter.

    ``paragraphs`` are our own text with ``{variable}`` places, filled with the
    values as text (``-`` where a variable is missing) and escaped as a whole by the
    document template; ``details`` are (label, variable)
    rows shown when the variable is set; ``listing`` names a list variable shown
    as a numbered list.
    """

    key: str
    code: str
    title: str
    paragraphs: tuple[str, ...]
    details: tuple[tuple[str, str], ...] = ()
    listing: tuple[str, str] | None = None
    closing: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    form: str | None = None
    # Which document template lays it out (lspro/templates/lspro/documents/<layout>.html).
    layout: str = "letter"


_APPLICATION = ("Nomor permohonan", "nomor_permohonan")
_PRODUCT = ("Produk", "nama_produk")
_SNI = ("Standar", "sni")
_CERTIFICATE = ("Nomor SPPT SNI", "nomor_sertifikat")

TEMPLATES: dict[str, LetterTemplate] = {t.key: t for t in (
    LetterTemplate(
        "surat_kekurangan_dokumen", "SKD", "Pemberitahuan Kekurangan Dokumen Permohonan",
        ("Berdasarkan pemeriksaan kelengkapan dokumen permohonan SPPT SNI Saudara, "
         "dokumen berikut belum kami terima atau belum memenuhi persyaratan.",),
        details=(_APPLICATION, _PRODUCT, _SNI, ("Catatan", "catatan_kelengkapan")),
        listing=("Dokumen yang perlu dilengkapi", "dokumen_kurang"),
        closing=("Mohon dokumen tersebut dilengkapi melalui sertiflow agar permohonan "
                 "dapat kami proses lebih lanjut.",),
    ),
    LetterTemplate(
        "surat_penolakan_permohonan", "SPP", "Penolakan Permohonan SPPT SNI",
        ("Setelah kaji ulang permohonan, dengan menyesal kami sampaikan bahwa permohonan "
         "SPPT SNI Saudara tidak dapat kami terima.",),
        details=(_APPLICATION, _PRODUCT, _SNI, ("Ruang lingkup", "catatan_lingkup"),
                 ("Alasan", "alasan_penolakan")),
        closing=("Saudara dapat mengajukan permohonan baru apabila penyebab penolakan telah "
                 "diatasi.",),
    ),
    LetterTemplate(
        "surat_pembatalan_permohonan", "SBP", "Pembatalan Permohonan SPPT SNI",
        ("Dengan ini kami sampaikan bahwa permohonan SPPT SNI Saudara dibatalkan.",),
        details=(_APPLICATION, _PRODUCT, ("Kode billing", "kode_billing"),
                 ("Alasan", "alasan_pembatalan")),
        closing=("Saudara dapat mengajukan permohonan baru setiap saat.",),
    ),
    LetterTemplate(
        "perjanjian_kerjasama", "PKS", "Perjanjian Kerjasama Sertifikasi Produk",
        ("Perjanjian ini dibuat antara {lspro} dan {perusahaan} untuk sertifikasi produk "
         "penggunaan tanda SNI sebagai berikut.",),
        details=(_APPLICATION, _PRODUCT, _SNI, ("Tipe skema", "tipe_skema"),
                 ("Merek dan kemasan", "merek_kemasan"), ("Kode billing", "kode_billing")),
        closing=(
            "Pelanggan bersedia memenuhi persyaratan sertifikasi, memberi akses untuk "
            "evaluasi dan surveilan, menyelidiki keluhan, memperbaiki pernyataan yang "
            "keliru, dan menghentikan penggunaan tanda SNI bila sertifikat dibekukan atau "
            "dicabut.",
            "Biaya sertifikasi adalah PNBP sesuai PP 54 Tahun 2021 dan tidak dikembalikan "
            "apabila sertifikat dicabut."),
    ),
    LetterTemplate(
        "surat_kekurangan", "SKP", "Pemberitahuan Kekurangan Hasil Rapat Tim Teknis",
        ("Tim Teknis telah membahas hasil audit dan pengujian atas permohonan Saudara dan "
         "menyimpulkan bahwa persyaratan sertifikasi belum terpenuhi.",),
        details=(_APPLICATION, _PRODUCT, _SNI, ("Rekomendasi", "rekomendasi"),
                 ("Kekurangan", "catatan_kekurangan"), ("Catatan", "catatan_rekomendasi")),
        listing=("Kekurangan yang perlu diklarifikasi", "daftar_kekurangan"),
        closing=("Mohon Saudara menyampaikan klarifikasi beserta buktinya agar dapat kami "
                 "evaluasi ulang.",),
    ),
    LetterTemplate(
        "surat_penghentian", "SHP", "Penghentian Proses Sertifikasi",
        ("Dengan ini kami sampaikan bahwa proses sertifikasi atas permohonan Saudara "
         "dihentikan.",),
        details=(_APPLICATION, _PRODUCT, ("Alasan", "alasan_penghentian")),
        closing=("Saudara dapat mengajukan permohonan baru setelah penyebab penghentian "
                 "diatasi.",),
    ),
    LetterTemplate(
        "berita_acara_serah_terima", "BAST", "Berita Acara Serah Terima SPPT SNI",
        ("{lspro} menyerahkan SPPT SNI berikut kepada {perusahaan}, dan {perusahaan} "
         "menerimanya dalam keadaan baik.",),
        details=(_CERTIFICATE, _PRODUCT, _SNI, ("Merek dan kemasan", "merek_kemasan"),
                 ("Berlaku sampai", "berlaku_sampai")),
        form="F.52.01.00.2014", layout="berita_acara",
    ),
    LetterTemplate(
        "surat_pembekuan", "SBK", "Pembekuan SPPT SNI",
        ("Dengan ini kami sampaikan bahwa SPPT SNI Saudara dibekukan. Selama pembekuan, "
         "Saudara dilarang membubuhkan tanda SNI pada produk dan kemasan.",),
        details=(_CERTIFICATE, _PRODUCT, ("Alasan", "alasan_pembekuan"),
                 ("Batas waktu perbaikan", "batas_pembekuan"), ("Catatan", "catatan_pembekuan")),
        closing=("Apabila penyebab pembekuan tidak diperbaiki secara memadai sampai batas "
                 "waktu tersebut, SPPT SNI akan dicabut.",),
    ),
    LetterTemplate(
        "surat_pemulihan", "SPM", "Pemulihan SPPT SNI",
        ("Tindakan perbaikan Saudara telah kami nilai memadai. Dengan ini pembekuan SPPT "
         "SNI berikut dicabut dan sertifikat kembali berlaku.",),
        details=(_CERTIFICATE, _PRODUCT, ("Berlaku sampai", "berlaku_sampai")),
    ),
    LetterTemplate(
        "surat_pencabutan", "SPC", "Pemberitahuan Pencabutan SPPT SNI",
        ("Dengan ini kami sampaikan bahwa SPPT SNI berikut dicabut. Sejak tanggal surat "
         "ini Saudara dilarang membubuhkan tanda SNI pada produk dan kemasan.",),
        details=(_CERTIFICATE, _PRODUCT, _SNI, ("Alasan", "alasan_pencabutan")),
        closing=("Pencabutan ini diumumkan dalam daftar publik sertifikat yang dicabut. "
                 "Biaya sertifikasi yang telah dibayarkan tidak dikembalikan. Saudara dapat "
                 "mengajukan permohonan baru setelah memperbaiki penerapan standar dan "
                 "sistem Saudara.",),
        cc=(KAN, REGIONAL),
    ),
    LetterTemplate(
        "surat_permohonan_maaf", "SMF", "Permohonan Maaf atas Keterlambatan",
        ("Kami mohon maaf atas keterlambatan proses sertifikasi yang Saudara sampaikan "
         "dalam keluhan Saudara.",),
        details=(("Nomor keluhan", "nomor_perkara"), _APPLICATION,
                 ("Penyebab keterlambatan", "penyebab_keterlambatan"),
                 ("Perbaikan", "tindakan_perbaikan"), ("Pencegahan", "tindakan_pencegahan")),
        closing=("Terima kasih atas masukan Saudara.",),
    ),
    LetterTemplate(
        "surat_penangguhan_proses", "SPG", "Penangguhan Sementara Proses Sertifikasi",
        ("Merek yang Saudara ajukan sedang dalam perselisihan dengan pihak lain. Proses "
         "sertifikasi Saudara ditangguhkan sementara sampai ada kepastian dari Kementerian "
         "Hukum dan HAM.",),
        details=(_APPLICATION, ("Nomor perkara", "nomor_perkara"), ("Merek", "merek"),
                 ("Catatan", "catatan_sengketa")),
    ),
    LetterTemplate(
        "surat_kelanjutan_proses", "SKL", "Kelanjutan Proses Sertifikasi",
        ("Kementerian Hukum dan HAM telah memberikan kepastian atas merek Saudara. Proses "
         "sertifikasi Saudara dilanjutkan.",),
        details=(_APPLICATION, ("Nomor perkara", "nomor_perkara"),
                 ("Surat Kemenkumham", "nomor_surat_kemenkumham"),
                 ("Merek sah milik pemohon", "merek_sah_milik_pemohon")),
    ),
    LetterTemplate(
        "surat_hasil_banding", "SHB", "Hasil Penanganan Banding",
        ("Banding yang Saudara ajukan telah kami periksa dengan hasil sebagai berikut.",),
        details=(("Nomor banding", "nomor_perkara"), _APPLICATION,
                 ("Jenis banding", "jenis_banding"), ("Hasil", "hasil_banding"),
                 ("Keputusan", "keputusan_banding"), ("SPPT SNI lama", "nomor_sertifikat_lama"),
                 ("SPPT SNI pengganti", "nomor_sertifikat")),
    ),
)}

RECEIPT = LetterTemplate(
    "tanda_terima", "TT", "Tanda Terima Berkas Permohonan",
    ("{lspro} telah menerima berkas permohonan SPPT SNI dari {perusahaan} pada tanggal "
     "{tanggal}.",),
    details=(_APPLICATION, _PRODUCT, _SNI, ("Tipe skema", "tipe_skema"),
             ("Jenis permohonan", "jenis_permohonan"), ("Merek dan kemasan", "merek_kemasan")),
    listing=("Dokumen yang diterima", "dokumen_diterima"),
    closing=("Tanda terima ini bukan bukti kelengkapan dokumen; kelengkapan diperiksa "
             "kemudian.",),
    form="F.10.01.00.2014", layout="receipt",
)
