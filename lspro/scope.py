"""The LSPro's accredited scope and the documents an application must bring.

Reference data, versioned like the fee table (``lspro.fees``): a
:class:`ScopeVersion` is in force from its ``effective_from`` day, and an
application is checked against the version in force on the day it is received.
The source is the scope table published by LSPro BSPJI Manado (KAN accreditation
LSPr-034-IDN, DOMAIN.md §7.1), with the inconsistencies of §7.2 resolved as the
comments below say. Every resolution is a decision to confirm with the LSPro;
changing one is a new entry in :data:`SCOPES`, not a code change.

The application requirements are the 21 items of DOMAIN.md §4, as a checklist
whose conditions are read from the application (:class:`ApplicationFacts`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.errors import InvalidInput

BISKUIT = "BISKUIT"
MINYAK_GORENG_SAWIT = "MINYAK_GORENG_SAWIT"
AIR_MINERAL = "AIR_MINERAL"
AIR_DEMINERAL = "AIR_DEMINERAL"
GARAM_BERYODIUM = "GARAM_BERYODIUM"

NEW = "baru"
RECERTIFICATION = "resertifikasi"
APPLICATION_TYPES = (NEW, RECERTIFICATION)


@dataclass(frozen=True)
class SniEdition:
    """One edition of a standard: ``SNI 6241:2023``, maybe with a corrigendum (*ralat*)."""

    number: str
    year: str
    corrigendum: str | None = None

    @property
    def label(self) -> str:
        """The edition as printed on a certificate: ``SNI 6241:2023/Ralat1:2024``."""
        text = f"SNI {self.number}:{self.year}"
        return f"{text}/{self.corrigendum}" if self.corrigendum else text


@dataclass(frozen=True)
class ScopeEntry:
    """One product of the accredited scope."""

    code: str
    name_id: str
    name_en: str
    editions: tuple[SniEdition, ...]
    regulation: str | None
    scheme_types: tuple[int, ...]
    amdk: bool = False  # AMDK: packaged drinking water (air minum dalam kemasan)


@dataclass(frozen=True)
class ScopeVersion:
    effective_from: date
    source: str
    entries: tuple[ScopeEntry, ...]

    def entry(self, code: str) -> ScopeEntry | None:
        return next((e for e in self.entries if e.code == code), None)


# The day the published table took effect is not stated. It cites a 2024
# corrigendum and a 2024 regulation, so 1 January 2024 is a PLACEHOLDER that keeps
# every application date since then valid; replace it with the accreditation
# scope's date once KAN's certificate is at hand.
_MANADO_2024_FROM = date(2024, 1, 1)

MANADO_2024 = ScopeVersion(
    effective_from=_MANADO_2024_FROM,
    source="LSPro BSPJI Manado, ruang lingkup (DOMAIN.md §7.1), resolved per §7.2",
    entries=(
        # The table's editions win over the introductory paragraph, which lists the
        # older 3553:2015, 6241:2015 and 3556:2010 and leaves biscuits out: the table
        # is the more specific text and names the newer editions. Older editions are
        # therefore outside the scope for new applications.
        ScopeEntry(
            BISKUIT, "Biskuit", "Biscuits",
            # Two editions in parallel during the transition, as the table prints.
            (SniEdition("2973", "2011"), SniEdition("2973", "2022")),
            # As printed, with the amendment that changed it.
            "Permenperin No. 60/M-IND/PER/7/2015 jo. No. 96/M-IND/PER/11/2015",
            (5,),
        ),
        ScopeEntry(
            MINYAK_GORENG_SAWIT, "Minyak goreng sawit", "Palm cooking oil",
            (SniEdition("7709", "2019"),),
            # The table prints no regulation here and "46/2019" on the mineral-water
            # row; 46/2019 is the palm cooking oil regulation, so it is moved here.
            "Permenperin No. 46 Tahun 2019",
            # The regulation also allows type 4, but the accredited scope lists type 5
            # only, and the LSPro may not certify outside its accreditation.
            (5,),
        ),
        ScopeEntry(
            AIR_MINERAL, "Air mineral", "Mineral water",
            (SniEdition("3553", "2023"),),
            # The packaged drinking water regulation (the table prints it on the
            # demineralised water and salt rows); see the palm oil row for 46/2019.
            "Permenperin No. 62 Tahun 2024",
            (5, 4),
            amdk=True,
        ),
        ScopeEntry(
            AIR_DEMINERAL, "Air demineral", "Demineralised water",
            # The corrigendum belongs to the 2023 edition: an application naming
            # either is the same edition.
            (SniEdition("6241", "2023", "Ralat1:2024"),),
            "Permenperin No. 62 Tahun 2024",
            # No scheme type is printed. Type 5 is the one every row of the table
            # allows, so it is the only one assumed; type 4 (as for mineral water)
            # needs the accreditation certificate's confirmation.
            (5,),
            amdk=True,
        ),
        ScopeEntry(
            GARAM_BERYODIUM, "Garam konsumsi beryodium", "Iodised consumption salt",
            (SniEdition("3556", "2016"),),
            # The printed "62/2024" is the drinking water regulation, not salt's. Salt
            # is now under Permenperin 16/2025 with SNI 3556:2024, which the published
            # scope does not cover yet (an extension of accreditation would be a new
            # ScopeVersion). The regulation behind the 2016 edition is not confirmed.
            None,
            (5,),
        ),
    ),
)

#: Every scope version, oldest first.
SCOPES: tuple[ScopeVersion, ...] = (MANADO_2024,)


def scope_on(day: date, scopes: Sequence[ScopeVersion] = SCOPES) -> ScopeVersion:
    """Return the scope in force on ``day``.

    :raises InvalidInput: when no version was in force that day.
    """
    if isinstance(day, datetime):
        day = day.date()
    in_force = [s for s in scopes if s.effective_from <= day]
    if not in_force:
        message = f"no accredited scope was in force on {day.isoformat()}"
        raise InvalidInput(message, {"day": message})
    return max(in_force, key=lambda s: s.effective_from)


_SNI = re.compile(r"^(?:SNI\s*)?(\d+(?:[.-]\d+)*)\s*:\s*(\d{4})"
                  r"(?:\s*/\s*(Ralat\s*\d+\s*:\s*\d{4}))?$", re.IGNORECASE)


def parse_sni(text: str) -> SniEdition | None:
    """Read ``SNI 2973:2022``, ``2973:2022`` or ``SNI 6241:2023/Ralat1:2024``; None if not one."""
    found = _SNI.match(" ".join(str(text).split()))
    if not found:
        return None
    corrigendum = found.group(3)
    if corrigendum:
        corrigendum = re.sub(r"\s+", "", corrigendum).capitalize()
    return SniEdition(found.group(1), found.group(2), corrigendum)


def parse_scheme_type(value: Any) -> int | None:
    """Read a scheme type given as 5, "5", "tipe_5", "Tipe 5"; None if not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    found = re.fullmatch(r"(?:tipe|type)?[\s_-]*(\d)", str(value).strip(), re.IGNORECASE)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class ScopeCheck:
    """The outcome of checking an application against the scope on a day."""

    in_scope: bool
    notes: tuple[str, ...]
    entry: ScopeEntry | None
    edition: SniEdition | None
    scheme_type: int | None

    @property
    def note(self) -> str:
        return "; ".join(self.notes) if self.notes else "sesuai ruang lingkup akreditasi"


def check_application(product: str, sni: str, scheme_type: Any, day: date,
                      scopes: Sequence[ScopeVersion] = SCOPES) -> ScopeCheck:
    """Check a product, SNI edition and scheme type against the scope in force on ``day``.

    The notes (Indonesian, for the applicant's letter) say each reason it is out.
    """
    scope = scope_on(day, scopes)
    entry = scope.entry(str(product))
    wanted_type = parse_scheme_type(scheme_type)
    wanted = parse_sni(sni)
    if entry is None:
        return ScopeCheck(False, (f"produk {product!s} tidak termasuk ruang lingkup akreditasi",),
                          None, wanted, wanted_type)
    notes = []
    edition = None
    if wanted is None:
        notes.append(f"nomor SNI {sni!s} tidak dikenali")
    else:
        edition = next((e for e in entry.editions
                        if (e.number, e.year) == (wanted.number, wanted.year)
                        and wanted.corrigendum in (None, e.corrigendum)), None)
        if edition is None:
            allowed = ", ".join(e.label for e in entry.editions)
            notes.append(f"{wanted.label} tidak termasuk ruang lingkup untuk "
                         f"{entry.name_id.lower()} (yang diakreditasi: {allowed})")
    if wanted_type not in entry.scheme_types:
        allowed = ", ".join(f"tipe {t}" for t in entry.scheme_types)
        notes.append(f"skema sertifikasi {scheme_type!s} tidak termasuk ruang lingkup untuk "
                     f"{entry.name_id.lower()} (yang diakreditasi: {allowed})")
    return ScopeCheck(not notes, tuple(notes), entry, edition, wanted_type)


# -- application requirements (DOMAIN.md §4) ---------------------------------------------


@dataclass(frozen=True)
class ApplicationFacts:
    """What the requirement conditions depend on."""

    scheme_type: int | None
    amdk: bool
    makloon: bool
    own_brand: bool
    application_type: str


Condition = Callable[[ApplicationFacts], bool]


@dataclass(frozen=True)
class Requirement:
    """One item of the checklist; ``key`` names its form field ``dok_<key>``.

    ``alternatives`` lists the kinds of evidence any one of which fulfils an
    either/or item (one upload field takes whichever the applicant has).
    ``issued`` marks what the LSPro produces itself instead of receiving.
    """

    no: int
    key: str
    label_id: str
    label_en: str
    condition: Condition | None = None
    condition_text: str = "wajib"
    alternatives: tuple[str, ...] = field(default_factory=tuple)
    issued: bool = False

    @property
    def field(self) -> str:
        return f"dok_{self.key}"

    def applies(self, facts: ApplicationFacts) -> bool:
        return self.condition is None or self.condition(facts)


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(1, "surat_permohonan", "Surat permohonan SPPT SNI",
                "SPPT SNI application letter"),
    # Amendment deeds only when the company has any; both go in one upload.
    Requirement(2, "akta_pendirian", "Salinan akta pendirian dan akta perubahan perusahaan",
                "Deed of establishment and amendment deeds"),
    Requirement(3, "nib_atau_iui", "Salinan NIB atau Izin Usaha Industri",
                "Business identification number (NIB) or industrial business licence (IUI)",
                alternatives=("NIB", "IUI")),
    Requirement(4, "npwp", "Salinan NPWP", "Taxpayer identification number (NPWP)"),
    Requirement(5, "daftar_merek_kemasan", "Daftar merek dan jenis kemasan yang diajukan",
                "List of brands and packaging types applied for"),
    Requirement(6, "sertifikat_merek",
                "Salinan sertifikat merek atau surat tanda daftar merek dari DJKI",
                "Trademark certificate or trademark filing receipt (DJKI)",
                alternatives=("sertifikat merek", "surat tanda daftar merek")),
    Requirement(7, "perjanjian_lisensi",
                "Salinan perjanjian lisensi dari pemilik merek yang terdaftar di DJKI",
                "Licence agreement with the brand owner, registered at DJKI",
                condition=lambda f: not f.own_brand,
                condition_text="merek bukan milik pemohon"),
    Requirement(8, "perjanjian_makloon", "Salinan perjanjian makloon",
                "Toll-manufacturing (makloon) agreement",
                condition=lambda f: f.makloon, condition_text="produksi secara makloon"),
    Requirement(9, "desain_kemasan", "Gambar atau desain kemasan produk",
                "Drawing or design of the packaging"),
    Requirement(10, "ilustrasi_tanda_sni", "Ilustrasi pembubuhan tanda SNI",
                "Illustration of how the SNI mark is affixed"),
    Requirement(11, "struktur_organisasi", "Struktur organisasi", "Organisation chart"),
    Requirement(12, "diagram_alir_produksi", "Diagram alir proses produksi",
                "Production process flow diagram"),
    Requirement(13, "daftar_pengendalian_mutu", "Daftar pengendalian mutu produk",
                "Product quality-control list"),
    Requirement(14, "daftar_peralatan_produksi", "Daftar peralatan utama produksi",
                "List of main production equipment"),
    Requirement(15, "daftar_peralatan_lab", "Daftar peralatan laboratorium mutu produk",
                "List of quality laboratory equipment"),
    # A certificate or a self-declaration, for SNI ISO 9001:2015 and CPPOB level II or
    # better. Only type 5 audits the management system (DOMAIN.md §8.3), so only type
    # 5 asks for it (CONTRACT.md).
    Requirement(16, "bukti_smm_cppob",
                "Salinan sertifikat atau surat pernyataan penerapan SNI ISO 9001:2015 dan "
                "CPPOB paling sedikit level II",
                "Certificate or self-declaration of SNI ISO 9001:2015 and CPPOB level II",
                condition=lambda f: f.scheme_type == 5, condition_text="skema tipe 5",
                alternatives=("sertifikat", "surat pernyataan diri")),
    Requirement(17, "daftar_informasi_terdokumentasi",
                "Daftar informasi terdokumentasi sesuai SNI ISO 9001:2015",
                "List of documented information (SNI ISO 9001:2015)"),
    Requirement(18, "pernyataan_tidak_mengedarkan",
                "Surat pernyataan bermeterai tidak mengedarkan produk sebelum SPPT SNI terbit",
                "Stamped declaration not to market the product before the SPPT SNI"),
    Requirement(19, "uji_bahan_baku",
                "Salinan sertifikat hasil uji bahan baku (Permenkes No. 31 Tahun 2017) dari "
                "laboratorium terakreditasi",
                "Raw-material test certificate from an accredited laboratory",
                condition=lambda f: f.amdk, condition_text="produk AMDK"),
    Requirement(20, "sppt_sni_lama", "Salinan SPPT SNI (resertifikasi)",
                "Copy of the existing SPPT SNI",
                condition=lambda f: f.application_type == RECERTIFICATION,
                condition_text="resertifikasi"),
    # Item 21 is the LSPro's own receipt (F.10.01.00.2014), issued at intake.
    Requirement(21, "tanda_terima", "Tanda terima berkas permohonan (F.10.01.00.2014)",
                "Application file receipt", issued=True, condition_text="diterbitkan LSPro"),
)


def required_documents(facts: ApplicationFacts,
                       requirements: Sequence[Requirement] = REQUIREMENTS) -> list[Requirement]:
    """The items the applicant must upload for an application with these facts."""
    return [r for r in requirements if not r.issued and r.applies(facts)]


def document_present(value: Any) -> bool:
    """Whether a filepicker value holds a document (an id, a reference, a list of them)."""
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, Mapping):
        return bool(value.get("id"))
    if isinstance(value, (list, tuple)):
        return any(document_present(v) for v in value)
    return False


def missing_documents(required: Sequence[Requirement],
                      values: Mapping[str, Any]) -> list[Requirement]:
    """The required items whose ``dok_<key>`` value holds no document."""
    return [r for r in required if not document_present(values.get(r.field))]
