"""Notifications: the outbox, who hears of what, each user's settings, and the e-mails.

- :mod:`.outbox` — queueing a notification in the command's transaction (one row);
- :mod:`.recipients` — who a notification reaches, what a digest lists;
- :mod:`.awaited` — what the mails say of an awaited message a role records;
- :mod:`.preferences` — each user's address, choice (every / digest / none), language;
- :mod:`.texts` — the mails' words in Indonesian and English;
- :mod:`.mailer` — sending the outbox and the daily digests by SMTP.
"""
