"""Who the users are and what they may do.

- :mod:`.users` — user accounts and the :class:`~engine.identity.users.IdentityService`
  that creates them, signs them in and issues and checks their tokens;
- :mod:`.passwords` — password hashing (scrypt) and its check;
- :mod:`.tokens` — bearer tokens as issued, and the cache of recently verified ones;
- :mod:`.signin` — the sign-in limit: how failed sign-ins slow further attempts down;
- :mod:`.access` — the access rules every edge applies (customers see their
  own company's work; admins and analysts).
"""
