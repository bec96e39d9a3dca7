"""The LSPro's extension: everything the certification body brings to the engine.

``register`` is the one registration point: the domain's service-task topics,
its services and settings, its tables (through its own Alembic branch), its
roles and escalation chain, its REST endpoints and its pages. Nothing else of
``lspro`` is wired into the engine or the web app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.composition import Services
from engine.extensions import Setup

from .billing import BillingService
from .certificates import CertificateRegister
from .companies import CompanyProfiles, missing_items, start_variables
from .documents.pdf import pdf_from_html
from .documents.service import RENDERER
from .letters import LetterService
from .panels import PanelService
from .settings import LsproSettings, load_lspro_settings
from .signature import derived_key
from .visibility import DOCUMENT_VISIBILITY

# The LSPro's staff roles (DOMAIN.md §2), in the order of the procedure.
STAFF_ROLES = ("upp", "koordinator-pk", "subkoordinator-sertifikasi", "auditor",
               "lead-auditor", "ppc", "tim-teknis", "kepala-balai", "administrasi",
               "keuangan")
# Who hears of a late task in each role: the coordinator one level up (SOP 2.2.1-3).
ESCALATION: Mapping[str, str] = {
    "upp": "koordinator-pk",
    "administrasi": "subkoordinator-sertifikasi",
    "keuangan": "kepala-balai",
    "auditor": "lead-auditor",
    "lead-auditor": "subkoordinator-sertifikasi",
    "ppc": "subkoordinator-sertifikasi",
    "tim-teknis": "subkoordinator-sertifikasi",
    "subkoordinator-sertifikasi": "koordinator-pk",
    "koordinator-pk": "kepala-balai",
    "kepala-balai": "admin",
    "pelanggan": "upp",
}
# Time spent while only these have work is not the LSPro's (DOMAIN.md §2.3).
OUTSIDE_LSPRO = ("laboratorium", "lab")
MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"
# The processes that start from the customer's company profile: the application,
# whose letters, receipt and certificate print the company's and factory's details.
PROFILE_PROCESSES = frozenset({"permohonan_sertifikasi"})


class LsproExtension:
    """The certification body (LSPro) that issues SPPT SNI certificates."""

    name = "lspro"

    def __init__(self, settings: LsproSettings | None = None) -> None:
        self.settings = settings or LsproSettings()

    def register(self, setup: Setup) -> None:
        from . import bill_pages, pages, rest  # bill_pages adds its view to pages.bp
        from .entry_checks import CHECKS
        from .topics import DOMAIN_TOPICS
        from .words import CATALOGUE, WORDS

        # The engine's time zone is the LSPro's: dates on letters and bills are local;
        # its public address is where a certificate's QR code leads; without a key of
        # its own, certificates are signed with one derived from the engine's secret.
        settings = replace(
            self.settings, timezone=setup.settings.timezone,
            public_url=self.settings.public_url or setup.settings.public_url,
            certificate_key=self.settings.certificate_key
            or derived_key(setup.settings.secret_key))
        setup.provide(settings)
        for topic, handler in DOMAIN_TOPICS.items():
            setup.topic(topic, handler)
        setup.service(CertificateRegister, lambda services: CertificateRegister(
            services.session, services.engine.clock, settings))
        setup.service(BillingService, lambda services: BillingService(
            services.session, services.engine.clock, settings))
        setup.service(LetterService, lambda services: LetterService(
            services.session, services.engine.clock, settings, services.documents,
            # The server's render process when it has one (engine.documents.rendering).
            services.engine.renders.renderers.get(RENDERER, pdf_from_html)))
        # Letters, bills and certificates are laid out as PDF after their command.
        setup.renderer(RENDERER, pdf_from_html)
        setup.service(PanelService, lambda services: PanelService(
            services.session, services.engine.clock))
        setup.service(CompanyProfiles, lambda services: CompanyProfiles(
            services.session, services.engine.clock))
        setup.start_variables(_company_variables)
        setup.roles(*STAFF_ROLES)
        for role, coordinator in ESCALATION.items():
            setup.escalate(role, coordinator)
        setup.outside(*OUTSIDE_LSPRO)
        setup.document_visibility(DOCUMENT_VISIBILITY, default="internal")
        setup.migrations(MIGRATIONS)
        setup.rest(rest.bp)
        setup.rest(rest.public)
        setup.rest(rest.profiles)
        setup.pages(pages.bp)
        setup.catalogue(CATALOGUE)
        setup.words(WORDS)
        # What staff type to find an application: its product, brands, numbers.
        setup.search("nama_produk", "produk", "merek_kemasan", "nomor_permohonan",
                     "nomor_sertifikat")
        setup.nav("nav.certificates", "lspro.certificate_list")
        setup.nav("nav.bills", "lspro.bill_list_page", roles=bill_pages.BILL_ROLES)
        setup.nav("nav.verify", "lspro.verify", signed_in=False, hint="signin.verify_hint")
        setup.customer_section("lspro/customer_section.html", _customer_section)
        for form_id, checker in CHECKS.items():
            setup.check(form_id, checker)
        setup.nav("nav.profile", "lspro.profile_page")


def _company_variables(services: Services, key: str, company: str | None) -> dict[str, Any]:
    """An application started for a company begins with its profile (processes/CONTRACT.md)."""
    if not company or key not in PROFILE_PROCESSES:
        return {}
    from .words import word

    labels = {k: word(f"profile.{k}") for k in ("legal_name", "npwp", "nib", "address",
                                                  "contact_name", "contact_phone",
                                                  "contact_email", "factories")}
    return start_variables(services.get(CompanyProfiles).get(company), company, labels)


def _customer_section(services: Services, actor: Any) -> dict[str, Any]:
    """A customer's certificates and bills, and what their company profile still lacks."""
    if not actor.company:
        return {"certificates": [], "invoices": [], "profile_missing": []}
    return {
        "profile_missing": missing_items(services.get(CompanyProfiles).get(actor.company)),
        "certificates": services.get(CertificateRegister).for_company(actor.company),
        "invoices": services.get(BillingService).search(company=actor.company,
                                                        per_page=50).items,
    }


def extension(environ: Mapping[str, str] | None = None) -> LsproExtension:
    """The LSPro's extension configured from ``environ`` (default: the process environment).

    :raises engine.config.ConfigError: when a setting holds an unusable value.
    """
    return LsproExtension(load_lspro_settings(environ))
