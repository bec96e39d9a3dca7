"""Documents of instances: uploaded files and the ones the server renders itself.

- :mod:`.service` — the documents of instances: upload, generate, list, open;
- :mod:`.store` — the file store that keeps their bytes, addressed by SHA-256;
- :mod:`.sniffing` — recognising what a file holds from its content;
- :mod:`.accepted_types` — the kinds of document accepted and the check of an upload;
- :mod:`.filenames` — a client's file name made safe to display.
"""
