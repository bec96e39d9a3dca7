"""The LSPro's tables: certificates, e-Billing invoices, number sequences, panel members,
company profiles.

They live on the engine's declarative base (so one metadata describes the whole
database) and are created by this package's own Alembic branch
(``lspro/migrations``), not by the engine's migrations.
"""

from .billing import INVOICE_STATES, Invoice
from .certificates import CERTIFICATE_STATES, Certificate, CertificateEvent
from .companies import CompanyFactory, CompanyProfile
from .numbering import Sequence
from .panels import PanelMember

__all__ = [
    "CERTIFICATE_STATES",
    "INVOICE_STATES",
    "Certificate",
    "CertificateEvent",
    "CompanyFactory",
    "CompanyProfile",
    "Invoice",
    "PanelMember",
    "Sequence",
]
