"""qmlkit.claims: the registry behind the claims table."""

from __future__ import annotations

from pathlib import Path

from qmlkit.claims import claims_table_markdown, review_claims

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"


def test_claim_keys_unique_and_chapters_well_formed():
    claims = review_claims()
    assert len({c.key for c in claims}) == len(claims) >= 20
    for c in claims:
        number, _, name = c.chapter.partition("_")
        assert number.isdigit() and len(number) == 2 and name


def test_table_links_existing_chapters_only(tmp_path):
    (tmp_path / "02_background.ipynb").write_text("{}")
    table = claims_table_markdown(tmp_path)
    assert "[02](02_background.ipynb)" in table
    assert "05 (in preparation)" in table
    assert len(table.splitlines()) == len(review_claims()) + 2


def test_every_existing_chapter_is_linked_from_the_real_table():
    table = claims_table_markdown(CHAPTERS)
    for c in review_claims():
        if (CHAPTERS / f"{c.chapter}.ipynb").exists():
            assert f"({c.chapter}.ipynb)" in table
