"""The pages' words in Indonesian (the default) and English.

A small catalogue of our own: each key has its Indonesian and English text, with
``str.format`` fields. The language is chosen with ``?lang=id|en`` (kept in a
cookie) and falls back to Indonesian. Role names stay as they are in both
languages. Extensions add their own words (``Setup.words``), which come first.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g

DEFAULT = "id"
LANGUAGES = ("id", "en")

# key -> (Indonesian, English)
MESSAGES: dict[str, tuple[str, str]] = {
    # navigation and layout
    "nav.applications": ("Permohonan saya", "My applications"),
    "nav.tasks": ("Tugas", "Tasks"),
    "nav.start": ("Mulai proses", "Start a process"),
    "nav.instances": ("Monitor", "Monitor"),
    "nav.dashboard": ("Dasbor", "Dashboard"),
    "nav.deployments": ("Deployment", "Deployments"),
    "nav.signin": ("Masuk", "Sign in"),
    "nav.signout": ("Keluar", "Sign out"),
    "nav.notifications": ("Pemberitahuan", "Notifications"),
    # the user's notification settings
    "notify.title": ("Pengaturan pemberitahuan", "Notification settings"),
    "notify.intro": ("Atur bagaimana Anda diberi tahu lewat surel saat ada tugas yang "
                     "menunggu Anda.",
                     "Choose how you are told by e-mail when a task is waiting for you."),
    "notify.email": ("Alamat surel", "E-mail address"),
    "notify.email_hint": ("Kosongkan bila Anda tidak ingin menerima surel.",
                          "Leave it empty if you want no e-mail."),
    "notify.choice": ("Kirim surel", "Send e-mail"),
    "notify.choice.every": ("Setiap tugas", "For every task"),
    "notify.choice.every.hint": ("satu surel untuk setiap tugas baru atau tugas yang terlambat",
                                 "one e-mail for each new task or late task"),
    "notify.choice.digest": ("Ringkasan harian", "Daily summary"),
    "notify.choice.digest.hint": ("satu surel sehari berisi semua tugas yang menunggu",
                                  "one e-mail a day listing every task waiting"),
    "notify.choice.none": ("Tidak usah", "Never"),
    "notify.choice.none.hint": ("tidak ada surel; lihat tugas Anda di halaman Tugas",
                                "no e-mail; see your tasks on the Tasks page"),
    "notify.language": ("Bahasa surel", "Language of the e-mails"),
    "notify.language.id": ("Bahasa Indonesia", "Indonesian"),
    "notify.language.en": ("Bahasa Inggris", "English"),
    "notify.save": ("Simpan", "Save"),
    "notify.saved": ("Pengaturan pemberitahuan disimpan.", "Notification settings saved."),
    "notify.invalid.email": ("Tulis satu alamat surel yang lengkap, misalnya "
                             "nama@perusahaan.co.id.",
                             "Write one complete e-mail address, such as name@company.co.id."),
    "notify.invalid.notify": ("Pilih salah satu pilihan di atas.", "Choose one of the options."),
    "notify.invalid.language": ("Pilih bahasa dari daftar.", "Choose a language from the list."),
    "footer.text": ("Layanan alur kerja BPMN", "BPMN workflow service"),
    "brand.tag": ("BPMN", "BPMN"),
    "yes": ("Ya", "Yes"),
    "no": ("Tidak", "No"),
    # errors
    "error.400": ("Permintaan tidak dapat diproses", "The request could not be handled"),
    "error.401": ("Silakan masuk terlebih dahulu", "Please sign in first"),
    "error.403": ("Anda tidak berwenang", "You are not allowed to do this"),
    "error.404": ("Tidak ditemukan", "Not found"),
    "error.409": ("Sudah berubah", "It has changed meanwhile"),
    "error.413": ("Berkas terlalu besar", "The file is too large"),
    "error.422": ("Isian tidak valid", "The input is not valid"),
    "error.429": ("Terlalu banyak percobaan", "Too many attempts"),
    "error.other": ("Terjadi kesalahan", "Something went wrong"),
    "error.home": ("Halaman awal", "Home page"),
    # signing in
    "signin.title": ("Masuk ke sertiflow", "Sign in to sertiflow"),
    "signin.intro": ("Masuk dengan nama pengguna dan kata sandi Anda.",
                     "Sign in with your user name and password."),
    "signin.username": ("Nama pengguna", "User name"),
    "signin.password": ("Kata sandi", "Password"),
    "signin.submit": ("Masuk", "Sign in"),
    "signin.wrong": ("Nama pengguna atau kata sandi salah.", "Wrong user name or password."),
    "signin.too_many": ("Terlalu banyak percobaan masuk yang gagal; coba lagi dalam {seconds} "
                        "detik.", "Too many failed sign-ins; try again in {seconds} seconds."),
    "signin.demo": ("Mode demo: masuk sebagai salah satu peran berikut, "
                    "kata sandi \u201c{password}\u201d:",
                    "Demo mode: sign in as one of these roles, password \u201c{password}\u201d:"),
    # filters, sorting, paging
    "filter.process": ("Proses", "Process"),
    "filter.role": ("Peran", "Role"),
    "filter.due": ("Jatuh tempo", "Due"),
    "filter.due_overdue": ("Terlambat", "Overdue"),
    "filter.due_today": ("Sampai hari ini", "By today"),
    "filter.due_week": ("Dalam 7 hari", "Within 7 days"),
    "filter.status": ("Status", "Status"),
    "filter.search": ("Cari", "Search"),
    "filter.search_hint": ("Nomor, perusahaan, atau produk", "Number, company or product"),
    "filter.sort": ("Urutkan", "Sort"),
    "filter.any": ("Semua", "Any"),
    "filter.apply": ("Terapkan", "Apply"),
    "filter.reset": ("Atur ulang", "Reset"),
    "filter.overdue_only": ("Hanya yang terlambat", "Overdue only"),
    "filter.incidents_only": ("Hanya yang ada insiden", "With incidents only"),
    "sort.due": ("Jatuh tempo terdekat", "Due soonest"),
    "sort.-due": ("Jatuh tempo terjauh", "Due latest"),
    "sort.created": ("Terlama dibuat", "Oldest first"),
    "sort.-created": ("Terbaru dibuat", "Newest first"),
    "sort.priority": ("Prioritas", "Priority"),
    "pager.previous": ("Sebelumnya", "Previous"),
    "pager.next": ("Berikutnya", "Next"),
    "pager.page": ("Halaman {page} dari {pages}", "Page {page} of {pages}"),
    # columns
    "col.step": ("Langkah", "Step"),
    "col.process": ("Proses", "Process"),
    "col.business_key": ("Nomor perkara", "Case number"),
    "col.company": ("Perusahaan", "Company"),
    "col.roles": ("Peran", "Roles"),
    "col.assignee": ("Dikerjakan oleh", "Assignee"),
    "col.due": ("Jatuh tempo", "Due"),
    "col.state": ("Keadaan", "State"),
    "col.status": ("Status", "Status"),
    "col.started": ("Dimulai", "Started"),
    "col.ended": ("Selesai", "Ended"),
    "col.current_steps": ("Langkah saat ini", "Current steps"),
    "col.when": ("Waktu", "When"),
    "col.event": ("Kejadian", "Event"),
    "col.element": ("Elemen", "Element"),
    "col.actor": ("Oleh", "By"),
    "col.data": ("Data", "Data"),
    "col.kind": ("Jenis", "Kind"),
    # SLA badges, states, statuses
    "badge.on-time": ("Tepat waktu", "On time"),
    "badge.due-soon": ("Segera jatuh tempo", "Due soon"),
    "badge.overdue": ("Terlambat", "Overdue"),
    "state.ready": ("Terbuka", "Open"),
    "state.completed": ("Selesai", "Completed"),
    "state.cancelled": ("Dibatalkan", "Cancelled"),
    "status.running": ("Berjalan", "Running"),
    "status.suspended": ("Ditangguhkan", "Suspended"),
    "status.completed": ("Selesai", "Completed"),
    "status.cancelled": ("Dibatalkan", "Cancelled"),
    "status.error": ("Ada insiden", "Incident"),
    # task list
    "tasks.title": ("Daftar tugas", "Task list"),
    "tasks.view_todo": ("Tugas saya dan tugas peran saya yang belum diambil",
                        "Mine and my roles' unclaimed"),
    "tasks.view_everything": ("Semua yang terlihat", "Everything I can see"),
    "tasks.view_mine": ("Diambil oleh saya", "Claimed by me"),
    "tasks.view_open": ("Belum diambil", "Unclaimed"),
    "tasks.view_done": ("Selesai oleh saya", "Completed by me"),
    "col.completed_at": ("Diselesaikan", "Completed"),
    "tasks.total": ("{total}{more} tugas", "{total}{more} tasks"),
    "tasks.none": ("Tidak ada tugas yang sesuai.", "No tasks match."),
    "tasks.unassigned": ("belum diambil", "unclaimed"),
    # task page
    "task.form": ("Formulir", "Form"),
    "task.claim": ("Ambil tugas", "Claim"),
    "task.unclaim": ("Lepaskan tugas", "Unclaim"),
    "task.complete": ("Selesaikan tugas", "Complete the task"),
    "task.claimed": ("Tugas sudah Anda ambil.", "You claimed the task."),
    "task.unclaimed": ("Tugas dikembalikan ke perannya.", "The task went back to its roles."),
    "task.assign": ("Alihkan tugas", "Hand over"),
    "task.assign_user": ("Kepada pengguna", "To a user"),
    "task.assign_roles": ("Kepada peran (pisahkan dengan koma)", "To roles (comma-separated)"),
    "task.assigned": ("Tugas sudah dialihkan.", "The task was handed over."),
    "task.completed": ("Tugas \u201c{title}\u201d selesai.", "Task \u201c{title}\u201d completed."),
    "task.claimed_by": ("Tugas ini sedang dikerjakan oleh {user}.",
                        "This task is claimed by {user}."),
    "task.view_only": ("Anda hanya dapat melihat tugas ini.", "You can only look at this task."),
    "task.no_form": ("Tugas ini tidak memiliki formulir.", "This task has no form."),
    "task.fix_errors": ("Periksa isian yang ditandai.", "Check the fields marked."),
    "task.failed": ("Tugas tidak dapat diselesaikan.", "The task could not be completed."),
    "task.saving": ("Menyimpan…", "Saving…"),
    "task.uploading": ("Mengunggah…", "Uploading…"),
    "task.stored_document": ("Tersimpan:", "Stored:"),
    "task.document": ("dokumen", "document"),
    "task.no_document": ("Belum ada dokumen.", "No document yet."),
    # documents and history
    "documents.title": ("Dokumen", "Documents"),
    "documents.none": ("Belum ada dokumen.", "No documents yet."),
    "documents.upload": ("Unggah", "Upload"),
    "document.uploaded": ("Dokumen \u201c{name}\u201d diunggah.",
                          "Document \u201c{name}\u201d uploaded."),
    "history.title": ("Riwayat", "History"),
    "event.instance_started": ("Proses dimulai", "Process started"),
    "event.instance_completed": ("Proses selesai", "Process completed"),
    "event.instance_suspended": ("Proses ditangguhkan", "Process suspended"),
    "event.instance_resumed": ("Proses dilanjutkan", "Process resumed"),
    "event.instance_cancelled": ("Proses dibatalkan", "Process cancelled"),
    "event.task_completed": ("Tugas selesai", "Task completed"),
    "event.task_claimed": ("Tugas diambil", "Task claimed"),
    "event.task_unclaimed": ("Tugas dilepas", "Task unclaimed"),
    "event.task_cancelled": ("Tugas dibatalkan", "Task cancelled"),
    "event.element_completed": ("Langkah otomatis selesai", "Automatic step done"),
    "event.timer_fired": ("Pewaktu berbunyi", "Timer fired"),
    "event.message_received": ("Pesan diterima", "Message received"),
    "event.variables_set": ("Variabel diubah", "Variables set"),
    "event.incident_opened": ("Insiden", "Incident"),
    "event.incident_retried": ("Insiden dicoba ulang", "Incident retried"),
    "event.document_uploaded": ("Dokumen diunggah", "Document uploaded"),
    "event.document_generated": ("Dokumen dibuat sistem", "Document generated"),
    "event.business_key_assigned": ("Nomor perkara diberikan", "Case number assigned"),
    "event.process_started": ("Proses lain dimulai", "Another process started"),
    "event.data_store_written": ("Penyimpanan data ditulis", "Data store written"),
    # diagrams
    "diagram.title": ("Diagram proses", "Process diagram"),
    "diagram.current": ("langkah ini", "this step"),
    "diagram.active": ("aktif", "active"),
    "diagram.completed": ("selesai", "completed"),
    "diagram.failed": ("gagal", "failed"),
    "diagram.timer": ("menunggu pewaktu", "waiting on a timer"),
    # instances
    "instances.title": ("Monitor proses", "Process monitor"),
    "instances.total": ("{total} proses", "{total} instances"),
    "instances.none": ("Tidak ada proses yang sesuai.", "No instances match."),
    "instance.open_tasks": ("Tugas terbuka", "Open tasks"),
    "instance.no_open_tasks": ("Tidak ada tugas terbuka.", "No open tasks."),
    "instance.timers": ("Pewaktu", "Timers"),
    "instance.no_timers": ("Tidak ada pewaktu yang menunggu.", "No timers waiting."),
    "instance.incidents": ("Insiden", "Incidents"),
    "instance.variables": ("Variabel", "Variables"),
    "instance.suspend": ("Tangguhkan", "Suspend"),
    "instance.resume": ("Lanjutkan", "Resume"),
    "instance.cancel": ("Batalkan", "Cancel"),
    "instance.reason": ("Alasan", "Reason"),
    "instance.reason_hint": ("Mengapa? Dicatat dalam riwayat.", "Why? It is kept in the history."),
    "instance.reason_required": ("Tuliskan alasannya.", "Give the reason."),
    "instance.reason_too_long": ("Alasan paling panjang {limit} karakter.",
                                 "The reason may be at most {limit} characters."),
    "instance.confirm_suspend": ("Tangguhkan proses", "Suspend the process"),
    "instance.confirm_resume": ("Lanjutkan proses", "Resume the process"),
    "instance.confirm_cancel": ("Batalkan proses", "Cancel the process"),
    "history.reason": ("Alasan", "Reason"),
    "instance.sections": ("Bagian halaman proses", "Sections of the process page"),
    "task.sections": ("Bagian halaman tugas", "Sections of the task page"),
    "task.context": ("Ringkasan", "Summary"),
    "diagram.pan_hint": ("seret untuk melihat bagian lain, Ctrl + roda tetikus untuk memperbesar",
                         "drag to see the rest, Ctrl + mouse wheel to zoom"),
    "instance.cancel_confirm": ("Batalkan proses ini beserta tugas-tugasnya?",
                                "Cancel this instance and its open tasks?"),
    "instance.suspended": ("Proses ditangguhkan.", "The instance is suspended."),
    "instance.resumed": ("Proses dilanjutkan.", "The instance is resumed."),
    "instance.cancelled": ("Proses dibatalkan.", "The instance is cancelled."),
    "instance.unnumbered": ("belum bernomor", "not numbered yet"),
    "instance.variables_json": ("Data mentah (JSON)", "Raw data (JSON)"),
    "timer.date": ("pada waktu tertentu", "at a set time"),
    "timer.duration": ("setelah jangka waktu", "after a period"),
    "timer.cycle": ("berulang", "repeating"),
    # the customer's progress view (_progress.html)
    "progress.title": ("Perkembangan permohonan", "Progress of the application"),
    "progress.step": ("Tahap {n} dari {total}", "Step {n} of {total}"),
    "progress.not_started": ("Belum dimulai ({total} tahap)", "Not started yet ({total} steps)"),
    "progress.done": ("selesai", "done"),
    "progress.current": ("sedang berjalan", "in progress"),
    "progress.to-come": ("berikutnya", "to come"),
    "progress.not-reached": ("tidak dilalui", "not reached"),
    "progress.asked": ("Yang perlu Anda lakukan", "What is asked of you"),
    "progress.nothing_asked": ("Saat ini tidak ada yang perlu Anda lakukan.",
                               "Nothing is asked of you now."),
    "progress.deadlines": ("Batas waktu", "Deadlines"),
    "progress.no_deadlines": ("Tidak ada batas waktu yang berjalan.", "No deadline is running."),
    "progress.recent": ("Kejadian terakhir", "Recent events"),
    "progress.no_events": ("Belum ada kejadian.", "Nothing has happened yet."),
    "instance.awaited": ("Menunggu pesan", "Waiting for messages"),
    "instance.record_message": ("Catat", "Record"),
    "message.title": ("Catat pesan \u201c{name}\u201d", "Record the message \u201c{name}\u201d"),
    "message.explain": (
        "Pesan ini biasanya dikirim sistem lain (bank, laboratorium, instansi). Catat di sini "
        "bila pesan itu tidak datang dengan sendirinya; isian diperiksa seperti formulir tugas.",
        "Another system (the bank, the laboratory, an agency) normally sends this message. "
        "Record it here when it does not arrive by itself; the values are checked like a "
        "task's form."),
    "awaited.title": ("Pesan yang ditunggu", "Awaited messages"),
    "awaited.explain": (
        "Pembayaran, laporan laboratorium atau surat yang ditunggu proses dan dicatat oleh "
        "peran Anda bila tidak datang dengan sendirinya.",
        "Payments, laboratory reports or letters a process waits for, which your role "
        "records when they do not arrive by themselves."),
    "awaited.col_message": ("Yang ditunggu", "Awaited"),
    "awaited.col_deadline": ("Batas waktu", "Deadline"),
    "awaited.no_deadline": ("tanpa batas waktu", "no deadline"),
    "awaited.unnamed": ("Pesan", "Message"),
    "awaited.back": ("Kembali ke daftar tugas", "Back to the task list"),
    "message.no_form": ("Pesan ini tidak memiliki formulir; dikirim tanpa data.",
                        "This message has no form; it is sent without data."),
    "message.send": ("Kirim pesan", "Send the message"),
    "message.failed": ("Pesan tidak dapat dikirim.", "The message could not be sent."),
    "message.sent": ("Pesan \u201c{name}\u201d dicatat.", "Message \u201c{name}\u201d recorded."),
    "incident.open": ("terbuka", "open"),
    "incident.resolved": ("selesai", "resolved"),
    "incident.traceback": ("Jejak galat", "Traceback"),
    "incident.customer_message": (
        "Terjadi kendala teknis pada langkah ini; petugas sudah diberi tahu.",
        "A technical problem occurred at this step; our staff have been notified."),
    "incident.variables": ("Variabel perbaikan (JSON, opsional)",
                           "Corrected variables (JSON, optional)"),
    "incident.fix_explain": (
        "Langkah ini berhenti karena nilai berikut tidak dapat dipakai. Perbaiki nilainya; "
        "langkah itu lalu dijalankan lagi.",
        "This step stopped because the values below could not be used. Correct them; the "
        "step then runs again."),
    "incident.fix": ("Simpan dan jalankan lagi", "Save and run again"),
    "incident.fixed": ("Nilai diperbaiki; langkah yang gagal dijalankan lagi.",
                       "Values corrected; the failed step ran again."),
    "incident.last_resort": ("Upaya terakhir: coba lagi dengan variabel JSON (admin)",
                             "Last resort: retry with JSON variables (admin)"),
    "incident.yes": ("Ya", "Yes"),
    "incident.no": ("Tidak", "No"),
    "incident.retry": ("Coba lagi", "Retry"),
    "incident.retried": ("Langkah yang gagal dijalankan lagi.", "The failed step ran again."),
    "clock.title": ("Jam layanan (target SOP)", "Service clock (SOP target)"),
    "clock.used": ("{used} dari {target} hari kerja terpakai",
                   "{used} of {target} working days used"),
    "clock.used_no_target": ("{used} hari kerja terpakai", "{used} working days used"),
    "clock.projected": ("perkiraan selesai {when}", "projected finish {when}"),
    "clock.running": ("berjalan (giliran kami)", "running (our turn)"),
    "clock.paused": ("berhenti (giliran pelanggan atau pihak luar)",
                     "paused (the customer's or an outside party's turn)"),
    "clock.off_hours": ("berhenti (di luar jam kerja)", "stopped (outside working hours)"),
    "clock.suspended": ("berhenti (proses ditangguhkan)", "stopped (the instance is suspended)"),
    "clock.ended": ("selesai", "ended"),
    "clock.used_col": ("Hari terpakai", "Days used"),
    "clock.target_col": ("Target", "Target"),
    # customer
    "apps.title": ("Permohonan saya", "My applications"),
    "apps.new": ("Ajukan permohonan baru", "Make a new request"),
    "apps.asked": ("Yang perlu Anda lakukan", "What is asked of you"),
    "apps.nothing_asked": ("Saat ini tidak ada yang perlu Anda lakukan.",
                           "Nothing is asked of you now."),
    "apps.list": ("Permohonan dan proses", "Applications and cases"),
    "apps.none": ("Belum ada permohonan.", "No applications yet."),
    "apps.no_number": ("(belum bernomor)", "(no number yet)"),
    "apps.yours": ("giliran Anda", "your turn"),
    "apps.no_open_step": ("tidak ada langkah terbuka", "no open step"),
    # starting
    "start.title": ("Mulai proses", "Start a process"),
    "start.intro": ("Pilih proses yang ingin dimulai.", "Choose the process to start."),
    "start.optional": ("opsional", "optional"),
    "start.button": ("Mulai", "Start"),
    "start.none": ("Tidak ada proses yang dapat Anda mulai.", "There is no process you may start."),
    "start.started": ("\u201c{name}\u201d dimulai.", "\u201c{name}\u201d started."),
    # dashboard
    "dashboard.title": ("Dasbor", "Dashboard"),
    "dashboard.running": ("proses berjalan", "running instances"),
    "dashboard.overdue_tasks": ("tugas terlambat", "overdue tasks"),
    "dashboard.incidents": ("Insiden terbuka", "Open incidents"),
    "dashboard.by_process": ("Proses per status", "Instances per process and status"),
    "dashboard.by_step": ("Tugas terbuka per langkah", "Open tasks per step"),
    "dashboard.open": ("Terbuka", "Open"),
    "dashboard.overdue_by_role": ("Tugas terlambat per peran", "Overdue tasks per role"),
    "dashboard.nothing_overdue": ("Tidak ada tugas terlambat.", "No task is overdue."),
    "dashboard.no_steps": ("Tidak ada tugas terbuka.", "No open tasks."),
    "dashboard.sla": ("Kepatuhan SLA per minggu", "SLA compliance per week"),
    "dashboard.chart_title": ("Persentase tugas selesai tepat waktu per minggu",
                              "Share of tasks completed on time, per week"),
    "dashboard.no_data": ("\u2013", "\u2013"),
    "dashboard.week": ("Minggu mulai", "Week of"),
    "dashboard.completed": ("Selesai", "Completed"),
    "dashboard.on_time": ("Tepat waktu", "On time"),
    "dashboard.late": ("Terlambat", "Late"),
    "dashboard.no_incidents": ("Tidak ada insiden terbuka.", "No open incidents."),
    # deployments
    "deploy.title": ("Deployment proses dan formulir", "Process and form deployments"),
    "deploy.upload": ("Unggah berkas .bpmn dan .form", "Upload .bpmn and .form files"),
    "deploy.submit": ("Deploy", "Deploy"),
    "deploy.hint": ("Semua berkas diperiksa dahulu; bila ada satu masalah, tidak ada yang "
                    "disimpan. Isi yang sama tidak menjadi versi baru.",
                    "Every file is checked first; one problem refuses the whole deployment. "
                    "Identical content makes no new version."),
    "deploy.refused": ("Deployment ditolak", "Deployment refused"),
    "deploy.file": ("Berkas", "File"),
    "deploy.line": ("Baris", "Line"),
    "deploy.message": ("Masalah", "Problem"),
    "deploy.done": ("Deployment diterima", "Deployment accepted"),
    "deploy.process": ("Proses", "Process"),
    "deploy.form": ("Formulir", "Form"),
    "deploy.unchanged": ("tidak berubah", "unchanged"),
    "deploy.new_version": ("versi baru", "new version"),
    "deploy.definitions": ("Definisi proses", "Process definitions"),
    "deploy.name": ("Nama", "Name"),
    "deploy.versions": ("Versi", "Versions"),
    "deploy.deployed_at": ("Versi terakhir", "Latest version at"),
    "deploy.none": ("Belum ada proses yang di-deploy.", "No process is deployed yet."),
}


def choose(asked: str | None, remembered: str | None) -> str:
    """The language of this request: asked for, else remembered, else Indonesian."""
    for candidate in (asked, remembered):
        if candidate in LANGUAGES:
            return str(candidate)
    return DEFAULT


def current() -> str:
    lang: str = g.get("lang", DEFAULT)
    return lang


def translate(lang: str, key: str, default: str | None = None, **fields: Any) -> str:
    """The text of ``key`` in ``lang``; the key itself (or ``default``) when unknown."""
    # The loaded extensions' words first: they add their pages' words and may
    # reword the engine's (the footer, the brand).
    texts = current_app.extensions["sertiflow"].setup.messages.get(key) if current_app \
        else None
    if texts is None:
        texts = MESSAGES.get(key)
    if texts is None:
        return default if default is not None else key
    text = texts[LANGUAGES.index(lang) if lang in LANGUAGES else 0]
    return text.format(**fields) if fields else text
