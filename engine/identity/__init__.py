"""Who the users are and what they may do.

- :mod:`.users` — accounts, password hashes, bearer tokens, the sign-in limit;
- :mod:`.access` — the access rules every edge applies (customers see their
  own company's work; admins and analysts).
"""
