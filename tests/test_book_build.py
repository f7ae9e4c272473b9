"""The strict site build (the `built_site` fixture in conftest): every page produced."""

import re

import pytest

from conftest import CHAPTERS

# One xdist worker runs test_site.py and test_book_build.py: they share the site built once (`built_site`).
pytestmark = [pytest.mark.book, pytest.mark.xdist_group("site")]


def test_every_page_is_built(built_site):
    for page in ["index.html", "book/intro.html", "book/instructors.html", "book/bibliography.html"] + [
            f"book/{path.stem}.html" for path in CHAPTERS]:
        assert (built_site / page).is_file(), f"missing page {page}"


def test_chapter_pages_show_outputs_and_hide_solutions(built_site):
    for path in CHAPTERS:
        html = (built_site / "book" / f"{path.stem}.html").read_text()
        assert "<img" in html, f"{path.stem}: no figure rendered"
        assert "\u2714 ex-" in html, f"{path.stem}: no stored check output rendered"
        assert "dropdown" in html and "solution" in html, f"{path.stem}: solutions are not in dropdowns"
        assert "absl::InitializeLog" not in html and "cudart_stub" not in html, f"{path.stem}: log spam"
        assert not re.search(r"Traceback \(most recent call last\)", html), f"{path.stem}: traceback on page"


def test_intro_shows_the_runtime_table(built_site):
    html = (built_site / "book" / "intro.html").read_text()
    assert "fast mode" in html and "measured on" in html
