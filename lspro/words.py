"""The LSPro pages' words in Indonesian and English, added to the pages' catalogue."""

from __future__ import annotations

# key -> (Indonesian, English)
WORDS: dict[str, tuple[str, str]] = {
    "brand.tag": ("LSPro", "LSPro"),
    "clock.running": ("berjalan (giliran LSPro)", "running (the LSPro's turn)"),
    "apps.new": ("Ajukan permohonan baru", "Apply for certification"),
    "clock.paused": ("berhenti (giliran pelanggan/lab)", "paused (customer's or lab's turn)"),
    "footer.text": ("Layanan alur kerja LSPro (SPPT SNI, ISO/IEC 17065)",
                    "Workflow service of the LSPro (SPPT SNI, ISO/IEC 17065)"),
    "nav.certificates": ("Sertifikat", "Certificates"),
    "nav.bills": ("Tagihan", "Bills"),
    "bills.title": ("Tagihan e-Billing", "e-Billing bills"),
    "bills.state": ("Keadaan", "State"),
    "bills.state_terbit": ("Belum dibayar", "Unpaid"),
    "bills.state_lunas": ("Lunas", "Paid"),
    "bills.state_kedaluwarsa": ("Kedaluwarsa", "Expired"),
    "bills.state_dibatalkan": ("Dibatalkan", "Cancelled"),
    "bills.overdue_only": ("Hanya yang lewat batas bayar", "Past the payment deadline only"),
    "bills.total": ("{total} tagihan", "{total} bills"),
    "bills.none": ("Tidak ada tagihan yang sesuai.", "No bills match."),
    "bills.code": ("Kode billing", "Billing code"),
    "bills.subject": ("Untuk", "For"),
    "bills.amount": ("Jumlah", "Amount"),
    "bills.due": ("Batas bayar", "Pay by"),
    "bills.paid": ("Dibayar", "Paid on"),
    "bills.record_payment": ("Catat pembayaran", "Record the payment"),
    "nav.verify": ("Cek sertifikat", "Check a certificate"),
    "signin.verify_hint": ("Ingin memeriksa keabsahan sertifikat tanpa masuk?",
                           "Want to check a certificate without signing in?"),
    "apps.certificates": ("Sertifikat saya", "My certificates"),
    "apps.no_certificates": ("Belum ada sertifikat.", "No certificates yet."),
    "apps.invoices": ("Tagihan (e-Billing)", "Bills (e-Billing)"),
    "bill.code": ("Kode billing", "Billing code"),
    "bill.subject": ("Untuk", "For"),
    "bill.total": ("Jumlah", "Amount"),
    "bill.due": ("Batas bayar", "Pay by"),
    "bill.state": ("Status", "State"),
    "cert.register": ("Daftar sertifikat SPPT SNI", "SPPT SNI certificate register"),
    "cert.number": ("Nomor sertifikat", "Certificate number"),
    "cert.product": ("Produk", "Product"),
    "cert.state": ("Status", "State"),
    "cert.issued": ("Terbit", "Issued"),
    "cert.expires": ("Berlaku sampai", "Valid until"),
    "cert.valid": ("Masih berlaku", "Still valid"),
    "cert.next_surveillance": ("Surveilan berikutnya", "Next surveillance"),
    "cert.application": ("Permohonan", "Application"),
    "cert.brands": ("Merek dan kemasan", "Brands and packaging"),
    "cert.scheme": ("skema tipe {type}", "scheme type {type}"),
    "cert.reason": ("Alasan", "Reason"),
    "cert.total": ("{total} sertifikat", "{total} certificates"),
    "cert.none": ("Tidak ada sertifikat yang sesuai.", "No certificates match."),
    "verify.title": ("Cek keabsahan sertifikat SPPT SNI", "Check an SPPT SNI certificate"),
    # what happened to a certificate, in its history
    "cert.event.issued": ("diterbitkan", "issued"),
    "cert.event.handed_over": ("diserahkan kepada pelanggan", "handed over to the customer"),
    "cert.event.suspended": ("dibekukan", "suspended"),
    "cert.event.reinstated": ("diaktifkan kembali", "reinstated"),
    "cert.event.revoked": ("dicabut", "revoked"),
    "cert.event.withdrawn": ("ditarik (diganti nomor baru)",
                             "withdrawn (replaced by a new number)"),
    "cert.event.expired": ("kedaluwarsa", "expired"),
    "cert.event.surveillance_recorded": ("surveilan dicatat", "surveillance recorded"),
    "verify.intro": ("Masukkan nomor sertifikat seperti tercetak (huruf besar atau kecil "
                     "sama saja).",
                     "Enter the certificate number as printed (upper or lower case alike)."),
    "verify.check": ("Periksa", "Check"),
    "verify.valid": ("Sertifikat sah dan berlaku", "The certificate is genuine and valid"),
    "verify.not_valid": ("Sertifikat terdaftar tetapi tidak berlaku",
                         "The certificate is registered but not valid"),
    "verify.unknown": ("Tidak ada sertifikat bernomor \u201c{number}\u201d.",
                       "There is no certificate numbered \u201c{number}\u201d."),
    "verify.replaced_by": ("Diganti dengan", "Replaced by"),
    "verify.revoked": ("Sertifikat yang dicabut", "Revoked certificates"),
    "verify.revoked_on": ("Dicabut", "Revoked"),
    "verify.none_revoked": ("Tidak ada sertifikat yang dicabut.", "No certificate is revoked."),
    "verify.signature": ("Kode keaslian", "Authenticity code"),
    "verify.signature_hint": (
        "Kode keaslian tercetak di bawah tanda SNI pada sertifikat; memindai kode QR "
        "sertifikat mengisinya sendiri. Tanpa kode, halaman ini hanya menunjukkan data "
        "sertifikat bernomor itu dalam daftar kami.",
        "The authenticity code is printed under the SNI mark on the certificate; scanning "
        "the certificate's QR code fills it in. Without it this page only shows what our "
        "register holds for that number."),
    "verify.genuine": ("Sertifikat asli", "The certificate is genuine"),
    "verify.genuine_valid": (
        "Kode keaslian cocok dengan data sertifikat dalam daftar kami, dan sertifikat ini "
        "berlaku.",
        "The authenticity code matches the certificate's data in our register, and the "
        "certificate is valid."),
    "verify.genuine_not_valid": (
        "Kode keaslian cocok dengan data sertifikat dalam daftar kami, tetapi sertifikat "
        "ini tidak berlaku lagi: {state}.",
        "The authenticity code matches the certificate's data in our register, but the "
        "certificate is no longer valid: {state}."),
    "verify.altered": ("Kode keaslian tidak cocok: sertifikat diubah atau palsu",
                       "The authenticity code does not match: altered or forged"),
    "verify.altered_text": (
        "Nomor ini ada dalam daftar kami, tetapi kode keaslian yang diberikan tidak cocok "
        "dengan datanya. Sertifikat yang Anda pegang telah diubah atau bukan terbitan kami. "
        "Bandingkan dengan data resmi di bawah, periksa kembali kode yang Anda ketik, dan "
        "hubungi kami bila tetap tidak cocok.",
        "This number is in our register, but the authenticity code given does not match "
        "its data. The certificate you hold was altered or was not issued by us. Compare "
        "it with the official data below, check the code you typed, and contact us if it "
        "still does not match."),
    "verify.register_entry": ("Data resmi sertifikat bernomor ini dalam daftar kami",
                              "The official data of this certificate number in our register"),
    "verify.state.aktif": ("aktif", "active"),
    "verify.state.dibekukan": ("dibekukan", "suspended"),
    "verify.state.dicabut": ("dicabut", "revoked"),
    "verify.state.ditarik": ("ditarik dan diganti dengan nomor baru",
                             "withdrawn and replaced by a new number"),
    "verify.state.kedaluwarsa": ("kedaluwarsa", "expired"),
}
