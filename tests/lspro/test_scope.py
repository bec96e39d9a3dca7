"""The accredited scope (DOMAIN.md §7) and the application requirements (§4) as data."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import InvalidInput
from lspro.scope import (
    AIR_DEMINERAL,
    AIR_MINERAL,
    BISKUIT,
    GARAM_BERYODIUM,
    MANADO_2024,
    MINYAK_GORENG_SAWIT,
    REQUIREMENTS,
    ApplicationFacts,
    ScopeEntry,
    ScopeVersion,
    SniEdition,
    check_application,
    document_present,
    missing_documents,
    parse_scheme_type,
    parse_sni,
    required_documents,
    scope_on,
)

DAY = date(2027, 3, 1)
# processes/CONTRACT.md, "Required documents", in its order.
CONTRACT_KEYS = [
    "surat_permohonan", "akta_pendirian", "nib_atau_iui", "npwp", "daftar_merek_kemasan",
    "sertifikat_merek", "perjanjian_lisensi", "perjanjian_makloon", "desain_kemasan",
    "ilustrasi_tanda_sni", "struktur_organisasi", "diagram_alir_produksi",
    "daftar_pengendalian_mutu", "daftar_peralatan_produksi", "daftar_peralatan_lab",
    "bukti_smm_cppob", "daftar_informasi_terdokumentasi", "pernyataan_tidak_mengedarkan",
    "uji_bahan_baku", "sppt_sni_lama",
]
BASE = ApplicationFacts(scheme_type=5, amdk=False, makloon=False, own_brand=True,
                        application_type="baru")


def test_the_scope_has_the_five_contract_products() -> None:
    codes = [e.code for e in MANADO_2024.entries]
    assert codes == [BISKUIT, MINYAK_GORENG_SAWIT, AIR_MINERAL, AIR_DEMINERAL, GARAM_BERYODIUM]
    assert [e.code for e in MANADO_2024.entries if e.amdk] == [AIR_MINERAL, AIR_DEMINERAL]


@pytest.mark.parametrize(("product", "sni", "scheme"), [
    (BISKUIT, "SNI 2973:2011", 5),            # two editions in parallel
    (BISKUIT, "2973:2022", "5"),
    (MINYAK_GORENG_SAWIT, "SNI 7709:2019", "tipe_5"),
    (AIR_MINERAL, "SNI 3553:2023", 4),        # mineral water: type 5 or 4
    (AIR_MINERAL, "sni 3553 : 2023", "Tipe 5"),
    (AIR_DEMINERAL, "SNI 6241:2023", 5),      # the corrigendum is the same edition
    (AIR_DEMINERAL, "SNI 6241:2023/Ralat1:2024", 5),
    (GARAM_BERYODIUM, "SNI 3556:2016", 5),
])
def test_accredited_combinations_are_in_scope(product: str, sni: str, scheme: object) -> None:
    checked = check_application(product, sni, scheme, DAY)
    assert checked.in_scope, checked.notes
    assert checked.note == "sesuai ruang lingkup akreditasi"


@pytest.mark.parametrize(("product", "sni", "scheme", "words"), [
    (AIR_MINERAL, "SNI 3553:2015", 5, ["SNI 3553:2015", "SNI 3553:2023"]),   # intro's edition
    (AIR_DEMINERAL, "SNI 6241:2015", 5, ["SNI 6241:2015"]),
    (GARAM_BERYODIUM, "SNI 3556:2010", 5, ["SNI 3556:2010"]),
    (GARAM_BERYODIUM, "SNI 3556:2024", 5, ["SNI 3556:2016"]),                # not extended
    (AIR_DEMINERAL, "SNI 6241:2023", 4, ["tipe 5"]),                         # not printed
    (MINYAK_GORENG_SAWIT, "SNI 7709:2019", 4, ["minyak goreng sawit"]),
    (BISKUIT, "SNI 2973:2022", "tipe 1b", ["tipe 1b"]),
    (BISKUIT, "dua ribu", 5, ["tidak dikenali"]),
    ("KOPI_BUBUK", "SNI 2983:2014", 5, ["KOPI_BUBUK"]),
])
def test_out_of_scope_says_why_in_indonesian(product: str, sni: str, scheme: object,
                                            words: list[str]) -> None:
    checked = check_application(product, sni, scheme, DAY)
    assert not checked.in_scope
    for word in words:
        assert word in checked.note


def test_regulations_as_resolved() -> None:
    regulation = {e.code: e.regulation for e in MANADO_2024.entries}
    assert regulation[MINYAK_GORENG_SAWIT] == "Permenperin No. 46 Tahun 2019"
    assert regulation[AIR_MINERAL] == regulation[AIR_DEMINERAL] == (
        "Permenperin No. 62 Tahun 2024")
    assert regulation[GARAM_BERYODIUM] is None
    assert "60/M-IND/PER/7/2015" in str(regulation[BISKUIT])


def test_the_scope_in_force_on_the_day_decides() -> None:
    later = ScopeVersion(date(2028, 1, 1), "test: salt extended to SNI 3556:2024", (
        ScopeEntry(GARAM_BERYODIUM, "Garam konsumsi beryodium", "Iodised salt",
                   (SniEdition("3556", "2024"),), "Permenperin No. 16 Tahun 2025", (5, 4)),))
    versions = (MANADO_2024, later)
    assert scope_on(date(2027, 12, 31), versions) is MANADO_2024
    assert scope_on(date(2028, 1, 1), versions) is later
    assert not check_application(GARAM_BERYODIUM, "SNI 3556:2024", 5, date(2027, 12, 31),
                                 versions).in_scope
    assert check_application(GARAM_BERYODIUM, "SNI 3556:2024", 4, date(2028, 1, 1),
                             versions).in_scope
    with pytest.raises(InvalidInput, match="no accredited scope"):
        scope_on(date(2023, 12, 31))


def test_parsing_standards_and_scheme_types() -> None:
    assert parse_sni("SNI 6241:2023/Ralat 1:2024") == SniEdition("6241", "2023", "Ralat1:2024")
    assert parse_sni("SNI 6241:2023/Ralat1:2024").label == "SNI 6241:2023/Ralat1:2024"
    assert parse_sni("3553") is None and parse_sni("") is None
    assert [parse_scheme_type(v) for v in (5, "4", "tipe_5", "Type 4", True, "lima")] == [
        5, 4, 5, 4, None, None]


def test_the_checklist_is_the_21_items_and_item_21_is_issued() -> None:
    assert [r.no for r in REQUIREMENTS] == list(range(1, 22))
    uploaded = [r.key for r in REQUIREMENTS if not r.issued]
    assert uploaded == CONTRACT_KEYS
    (issued,) = [r for r in REQUIREMENTS if r.issued]
    assert issued.no == 21 and "F.10.01.00.2014" in issued.label_id
    either_or = {r.no: r.alternatives for r in REQUIREMENTS if r.alternatives}
    assert set(either_or) == {3, 6, 16}
    assert all(r.field == f"dok_{r.key}" for r in REQUIREMENTS)


@pytest.mark.parametrize(("changes", "added", "removed"), [
    ({}, set(), {"perjanjian_lisensi", "perjanjian_makloon", "uji_bahan_baku",
                 "sppt_sni_lama"}),
    ({"own_brand": False}, {"perjanjian_lisensi"}, set()),
    ({"makloon": True}, {"perjanjian_makloon"}, set()),
    ({"amdk": True}, {"uji_bahan_baku"}, set()),
    ({"application_type": "resertifikasi"}, {"sppt_sni_lama"}, set()),
    ({"scheme_type": 4}, set(), {"bukti_smm_cppob"}),
])
def test_conditions_add_and_remove_items(changes: dict[str, object], added: set[str],
                                         removed: set[str]) -> None:
    base = {r.key for r in required_documents(BASE)}
    assert len(base) == 16
    facts = ApplicationFacts(**{**BASE.__dict__, **changes})  # type: ignore[arg-type]
    keys = {r.key for r in required_documents(facts)}
    assert keys - base == added
    assert base - keys == removed & base
    assert not keys & removed


def test_missing_documents_reads_the_filepicker_values() -> None:
    required = required_documents(BASE)
    values = {"dok_surat_permohonan": "doc-1", "dok_npwp": {"id": "doc-2"},
              "dok_akta_pendirian": ["doc-3", "doc-4"], "dok_nib_atau_iui": "  ",
              "dok_sertifikat_merek": {"id": ""}, "dok_desain_kemasan": [],
              "dok_ilustrasi_tanda_sni": False}
    missing = {r.key for r in missing_documents(required, values)}
    assert {"surat_permohonan", "npwp", "akta_pendirian"}.isdisjoint(missing)
    assert {"nib_atau_iui", "sertifikat_merek", "desain_kemasan",
            "ilustrasi_tanda_sni"} <= missing
    assert len(missing) == 16 - 3
    assert [document_present(v) for v in (None, 0, "x", {"id": "y"}, [None, "z"])] == [
        False, False, True, True, True]
