"""Tests of the LSPro's domain package (lspro/), apart from the generic engine's."""
