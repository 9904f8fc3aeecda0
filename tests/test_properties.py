"""Property-based tests: no request text, however odd, makes the parser or the search fail unhelpfully."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.engine import MAX_QUERY_CHARS
from assistant.formatting import response_as_markdown
from assistant.understanding import understand
from index_builder.errors import QueryError

ODD_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
    st.text(alphabet="!?.,;:-_()[]{}<>'\"`~@#$%^&*+=|\\/ \t\n", max_size=40),
    st.from_regex(r"(give me|top|before|after|since|no|not) ?[0-9]{1,7}( songs)?", fullmatch=True),
    st.sampled_from(["🎵🔥💃", "\x00\x01\x02", "songs from 3025", "give me 10000", "'; DROP TABLE songs; --",
                     "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a" * (MAX_QUERY_CHARS + 1)]),
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ODD_TEXT)
def test_parser_never_raises_and_keeps_ranges_sane(bundled_engine, text):
    intent = understand(text, bundled_engine.vocabulary)
    for year in (intent.year_min, intent.year_max):
        assert year is None or 1900 <= year <= 2100
    assert intent.count is None or intent.count >= 0
    assert isinstance(intent.describe(), str)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ODD_TEXT)
def test_search_answers_or_explains(bundled_engine, text):
    try:
        response = bundled_engine.search(text, 5)
    except QueryError as error:
        assert str(error).strip().endswith((".", "'"))  # a sentence for the person, not a traceback
        return
    asked = bundled_engine.understand(text.strip()).count
    assert len(response.results) <= min(asked or 5, bundled_engine.settings.max_k)
    for result in response.results:
        assert result.explanation


@pytest.mark.parametrize(
    "text", ["<script>alert(1)</script> songs", "<b>bold</b> and *stars* [link](http://x)", "'; DROP TABLE songs; --"]
)
def test_markup_in_requests_is_shown_as_text(bundled_engine, text):
    reply = response_as_markdown(bundled_engine.search(text, 3))
    assert "<script>" not in reply and "<b>" not in reply and "](http" not in reply


def test_absurd_count_is_capped_with_a_note(bundled_engine):
    response = bundled_engine.search("give me 10000 happy songs")
    assert len(response.results) == bundled_engine.settings.max_k
    assert any("most one answer holds" in note for note in response.notes)
