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
from .letters import LetterService
from .panels import PanelService
from .settings import LsproSettings, load_lspro_settings

# The LSPro's staff roles (DOMAIN.md §2), in the order of the procedure.
STAFF_ROLES = ("upp", "koordinator-pk", "subkoordinator-sertifikasi", "auditor",
               "lead-auditor", "ppc", "tim-teknis", "kepala-balai", "administrasi")
# Who hears of a late task in each role: the coordinator one level up (SOP 2.2.1-3).
ESCALATION: Mapping[str, str] = {
    "upp": "koordinator-pk",
    "administrasi": "subkoordinator-sertifikasi",
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


class LsproExtension:
    """The certification body (LSPro) that issues SPPT SNI certificates."""

    name = "lspro"

    def __init__(self, settings: LsproSettings | None = None) -> None:
        self.settings = settings or LsproSettings()

    def register(self, setup: Setup) -> None:
        from . import pages, rest
        from .topics import DOMAIN_TOPICS
        from .words import CATALOGUE, WORDS

        # The engine's time zone is the LSPro's: dates on letters and bills are local.
        settings = replace(self.settings, timezone=setup.settings.timezone)
        setup.provide(settings)
        for topic, handler in DOMAIN_TOPICS.items():
            setup.topic(topic, handler)
        setup.service(CertificateRegister, lambda services: CertificateRegister(
            services.session, services.engine.clock, settings))
        setup.service(BillingService, lambda services: BillingService(
            services.session, services.engine.clock, settings))
        setup.service(LetterService, lambda services: LetterService(
            services.session, services.engine.clock, settings, services.documents))
        setup.service(PanelService, lambda services: PanelService(
            services.session, services.engine.clock))
        setup.roles(*STAFF_ROLES)
        for role, coordinator in ESCALATION.items():
            setup.escalate(role, coordinator)
        setup.outside(*OUTSIDE_LSPRO)
        setup.migrations(MIGRATIONS)
        setup.rest(rest.bp)
        setup.rest(rest.public)
        setup.pages(pages.bp)
        setup.catalogue(CATALOGUE)
        setup.words(WORDS)
        setup.nav("nav.certificates", "lspro.certificate_list")
        setup.nav("nav.verify", "lspro.verify", signed_in=False, hint="signin.verify_hint")
        setup.customer_section("lspro/customer_section.html", _customer_section)


def _customer_section(services: Services, actor: Any) -> dict[str, Any]:
    """A customer's certificates and bills, for their own page."""
    if not actor.company:
        return {"certificates": [], "invoices": []}
    return {
        "certificates": services.get(CertificateRegister).for_company(actor.company),
        "invoices": services.get(BillingService).search(company=actor.company,
                                                        per_page=50).items,
    }


def extension(environ: Mapping[str, str] | None = None) -> LsproExtension:
    """The LSPro's extension configured from ``environ`` (default: the process environment).

    :raises engine.config.ConfigError: when a setting holds an unusable value.
    """
    return LsproExtension(load_lspro_settings(environ))
