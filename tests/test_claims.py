"""qmlkit.claims: the registry behind the claims table."""

from __future__ import annotations

from pathlib import Path

from qmlkit.claims import claims_table_markdown, published_chapters, review_claims

ROOT = Path(__file__).resolve().parents[1]


def test_claim_keys_unique_and_chapters_well_formed():
    claims = review_claims()
    assert len({c.key for c in claims}) == len(claims) >= 20
    for c in claims:
        number, _, name = c.chapter.partition("_")
        assert number.isdigit() and len(number) == 2 and name


def test_table_links_published_chapters_only(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text("root: index\nparts:\n  - caption: x\n    chapters:\n"
                   "      - file: chapters/02_background\n")
    (tmp_path / "05_gradients.ipynb").write_text("{}")  # present but not published
    table = claims_table_markdown(toc)
    assert "[02](02_background.ipynb)" in table
    assert "05 (in preparation)" in table
    assert len(table.splitlines()) == len(review_claims()) + 2


def test_every_published_chapter_with_a_claim_is_linked_from_the_real_table():
    published = published_chapters(ROOT / "_toc.yml")
    assert {"01_introduction", "02_background"} <= published
    table = claims_table_markdown(ROOT / "_toc.yml")
    for c in review_claims():
        if c.chapter in published:
            assert f"({c.chapter}.ipynb)" in table
            assert (ROOT / "chapters" / f"{c.chapter}.ipynb").exists()
