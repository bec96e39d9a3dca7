"""The LSPro's domain: what a product-certification body (SPPT SNI, ISO/IEC 17065)
brings to the generic BPMN engine.

It plugs in through one object, :class:`~lspro.extension.LsproExtension`
(``lspro.extension()`` builds it from the environment); the engine never
imports this package.
"""

from .extension import LsproExtension, extension

__all__ = ["LsproExtension", "extension"]
