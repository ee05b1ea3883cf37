"""Unit tests of the shared page helpers that need no script run (messages, steps, escaping)."""

from __future__ import annotations

import pytest

from core.errors import DataError
from ui.common import (
    WORD_JOINER,
    error_message,
    escape_markdown,
    image_upload_types,
    missing_steps,
)


def test_user_errors_keep_their_sentence() -> None:
    assert error_message(DataError("The zip is empty.")) == "The zip is empty."
    assert error_message(ValueError("Dropout must be below 1.")) == "Dropout must be below 1."


def test_unexpected_errors_get_a_generic_sentence_without_details() -> None:
    message = error_message(KeyError("/secret/path/model.keras"), "building the model")
    assert "secret" not in message and "Traceback" not in message
    assert message.startswith("Something went wrong while building the model")
    assert "memory" in error_message(MemoryError())


def test_unknown_step_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="Unknown step 'dataset'"):
        missing_steps("dataset")


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("cats", "cats"),
        ("photo 1", "photo 1"),
        ("photo 1.png", r"photo 1\.png"),
        ("**bold** _it_", r"\*\*bold\*\* \_it\_"),
        ("[link](http://x)", "\\[link\\]\\(http\\:\u2060\\/\\/x\\)"),
        ("![img](x.png)", r"\!\[img\]\(x\.png\)"),
        (":red[alert] $x$ :smile:", r"\:red\[alert\] \$x\$ \:smile\:"),
        ("<b>#1</b> a|b ~~c~~ `d` \\", r"\<b\>\#1\<\/b\> a\|b \~\~c\~\~ \`d\` \\"),
        ("www.evil.example a@b.c &lt;", "www\u2060\\.evil\\.example a\\@\u2060b\\.c \\&lt\\;"),
        ("https://x WWW.y", "https\\:\u2060\\/\\/x WWW\u2060\\.y"),
        ("- item\n1. one", "\\- item\n1\\. one"),
    ],
)
def test_escape_markdown_keeps_names_as_typed(name: str, escaped: str) -> None:
    assert escape_markdown(name) == escaped


def test_escape_markdown_escapes_every_ascii_punctuation_and_nothing_else() -> None:
    import string

    text = string.printable + "é字"
    escaped = escape_markdown(text)
    for char in string.punctuation:
        assert "\\" + char in escaped
    assert escaped.replace("\\", "").replace(WORD_JOINER, "") == text.replace("\\", "")


def test_image_upload_types_are_the_engine_suffixes() -> None:
    from core.predict.batch import IMAGE_SUFFIXES

    types = image_upload_types()
    assert {"jpg", "png", "tiff"} <= set(types)
    assert [f".{kind}" for kind in types] == list(IMAGE_SUFFIXES)
