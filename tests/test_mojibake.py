"""The GBK-misread Windows-1252 repair: the bundled file's damage is undone, real CJK text is not touched."""

from __future__ import annotations

import pytest

from index_builder.mojibake import repair_mojibake


@pytest.mark.parametrize(
    ("damaged", "expected"),
    [
        ("Just Can抰 Get Enough", "Just Can’t Get Enough"),
        ("We Are Young (feat. Janelle Mon醗)", "We Are Young (feat. Janelle Monáe)"),
        ("Se駉rita", "Señorita"),
        ("Bon app閠it", "Bon appétit"),
        ("Reggaet髇 Lento (Remix)", "Reggaetón Lento (Remix)"),
        ("No Vacancy (with Sebasti醤 Yatra)", "No Vacancy (with Sebastián Yatra)"),
        ("I Don抰 Wanna Live Forever", "I Don’t Wanna Live Forever"),
        ("Das Schicksal ist ein mieser Verr鋞er", "Das Schicksal ist ein mieser Verräter"),
        (
            "Atlas - From 揟he Hunger Games: Catching Fire?Soundtrack",
            "Atlas - From “The Hunger Games: Catching Fire” Soundtrack",
        ),
        (
            "From 揗iss Peregrine抯 Home for Peculiar Children?Original Motion Picture",
            "From “Miss Peregrine’s Home for Peculiar Children” Original Motion Picture",
        ),
    ],
)
def test_damaged_text_is_restored(damaged, expected):
    assert repair_mojibake(damaged) == expected


@pytest.mark.parametrize("text", ["晴天", "周杰伦 - 稻香", "Love 你", "Why?Because", "Plain ASCII title", "Beyoncé"])
def test_clean_or_genuine_cjk_text_is_unchanged(text):
    assert repair_mojibake(text) == text
