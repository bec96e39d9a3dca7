"""Process tests run the real files against the real domain handlers (``lspro_engine``)."""
