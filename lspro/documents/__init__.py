"""The documents the LSPro prints: letters, the receipt, the Berita Acara, the e-Billing
slip, the SPPT SNI and its draft, as PDF.

``texts`` holds what the letters say, ``values`` how values read in Indonesian,
``render`` what each document template is given, ``pdf`` the templates' rendering
(Jinja2, then WeasyPrint), ``service`` the numbering and storing. The templates
are files in ``lspro/templates/lspro/documents/``.
"""
