"""The policy in Kazakhstan's state language: the Kazakh text of version 2026-11-01 is served
clause by clause against the Russian one, and putting it in changed nothing customers
consented to (the version, the hash of the ru text, the ru text)."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import asyncpg
import pytest

from shared.migrations import migrate
from tests import infra
from tests.customers.conftest import POLICY_VERSION, Shop

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "services/customers/policy"
MIGRATIONS = ROOT / "services/customers/migrations"
KK_MIGRATION = "0011_policy_2026_11_01_kk.sql"
# Words of the old placeholder ("the Kazakh translation is being prepared").
PLACEHOLDER = ("аударма", "дайындалуда", "Перевод на казахский", "готовится")
# What a translation keeps as it is: the seller's name, BIN, web addresses, postal code.
KEPT = (
    "«Коллекторское агентство «Jetu»",
    "240440017017",
    "<http://www.jetu.kz>",
    "<http://www.aptekplus.kz>",
    "050070",
    "387",
)

# A clause starts a line, maybe as a list item, a heading or in bold: "1.", "2.2.1.", "5.10.".
CLAUSE = re.compile(r"^(?:#+ )?(?:- )?(?:\*\*)?(\d+(?:\.\d+)*)\.\s", re.MULTILINE)


def clauses(text: str) -> list[str]:
    return CLAUSE.findall(text)


def test_the_clause_parser_sees_every_clause_of_the_russian_text() -> None:
    found = clauses((POLICY / "privacy-policy.ru.md").read_text())
    assert found[:3] == ["1", "1.1", "1.2"] and found[-1] == "5.10"
    assert {"1.11", "2.2.4", "3.2.9", "4.1.2", "4.3.3", "4.4", "5.6"} <= set(found)
    assert len(found) == len(set(found)) == 56


def test_the_kazakh_file_has_the_clauses_and_names_of_the_russian_one() -> None:
    ru = (POLICY / "privacy-policy.ru.md").read_text()
    kk = (POLICY / "privacy-policy.kk.md").read_text()
    assert clauses(kk) == clauses(ru)
    for kept in KEPT:
        assert kept in ru and kept in kk, kept
    assert "«Дербес деректер және оларды қорғау туралы» Қазақстан Республикасының Заң" in kk


async def test_the_kk_text_served_is_the_translation(shop: Shop) -> None:
    ru_file = (POLICY / "privacy-policy.ru.md").read_text()
    kk_file = (POLICY / "privacy-policy.kk.md").read_text()
    status, ru = await shop.call("GET", "/api/customers/policy?lang=ru")
    assert status == 200
    status, kk = await shop.call("GET", "/api/customers/policy?lang=kk")
    assert status == 200
    assert kk["version"] == ru["version"] == POLICY_VERSION
    assert kk["text"] == kk_file and ru["text"] == ru_file
    assert clauses(kk["text"]) == clauses(ru["text"])
    assert not [word for word in PLACEHOLDER if word in kk["text"]]
    assert kk["sha256"] == ru["sha256"] == hashlib.sha256(ru_file.encode()).hexdigest()
    assert kk["sha256_kk"] == hashlib.sha256(kk_file.encode()).hexdigest()


async def test_the_kk_page_shows_the_kazakh_text(shop: Shop) -> None:
    async with shop.http.get(f"{shop.url}/account/policy?lang=kk") as response:
        assert response.status == 200
        page = await response.text()
    assert '<div class="text" lang="kk">' in page and '<div class="text" lang="ru">' not in page
    assert "1.1. Дербес деректер – электрондық, қағаз" in page
    assert "5.10. Сатушы Интернетті пайдалану нәтижесінде" in page
    assert "Персональные данные - сведения" not in page
    assert not [word for word in PLACEHOLDER if word in page]


async def test_the_migration_changes_only_the_kk_text(servers: infra.Servers, tmp_path) -> None:
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name < KK_MIGRATION:
            shutil.copy(path, tmp_path)
    name = f"t_{infra.run_token()}_kkmig"
    dsn = await infra.create_database(servers.pg_admin_dsn, name)
    query = "SELECT * FROM policy_versions WHERE version = '2026-11-01'"
    try:
        await migrate(dsn, tmp_path, "customers")
        conn = await asyncpg.connect(dsn)
        try:
            before = dict(await conn.fetchrow(query))
            shutil.copy(MIGRATIONS / KK_MIGRATION, tmp_path)
            assert await migrate(dsn, tmp_path, "customers") == [
                f"customers/{Path(KK_MIGRATION).stem}"
            ]
            after = dict(await conn.fetchrow(query))
            # Still append-only for everybody after the migration.
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute("UPDATE policy_versions SET text_kk = 'x'")
        finally:
            await conn.close()
    finally:
        await infra.drop_database(servers.pg_admin_dsn, name)
    assert "аударма" in before["text_kk"]
    kk = (POLICY / "privacy-policy.kk.md").read_text()
    ru = (POLICY / "privacy-policy.ru.md").read_text()
    assert after["text_kk"] == kk
    assert after["sha256_kk"] == hashlib.sha256(kk.encode()).hexdigest()
    assert after["sha256"] == before["sha256"] == hashlib.sha256(ru.encode()).hexdigest()
    unchanged = ("version", "effective_date", "text_ru", "published_at", "published_by")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
