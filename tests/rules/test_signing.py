"""One way to read a signed value: a value this app signed for a purpose reads back as it was
written; anything else (another purpose, another spelling, arbitrary text) is refused, never
an error."""

from __future__ import annotations

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_dropzone._protocol import deletion
from flask_dropzone._rules import direct, pending, signing, zonerules

from support.properties import examples

APP = Flask("signing")
APP.secret_key = "signing"
PURPOSES = (
    deletion.PURPOSE,
    direct.PURPOSE,
    pending.FIELD_PURPOSE,
    pending.REFERENCE_PURPOSE,
    pending.KEPT_PURPOSE,
    *zonerules.SALTS.values(),
)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def other_spellings(token: str) -> list[str]:
    """Spellings itsdangerous's lenient decoder also reads: padding, a character it drops,
    the signature's last character with its unused bits set."""
    value, signature = token.rsplit(".", 1)
    unused = (4 - len(signature) % 4) % 4 * 2
    last = ALPHABET[ALPHABET.index(signature[-1]) | ((1 << unused) - 1)]
    return [
        token + "=",
        token + "==",
        token + "\u00e9",
        token + "!=",
        f"{value}.{signature[:-1]}{last}",
    ]


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_value_reads_back_for_its_purpose_only_and_in_its_own_spelling_only(purpose):
    payload = {"c": "client", "k": [1, "two"]}
    token = signing.dumps(APP, purpose, payload)
    assert signing.canonical(token)
    found, made = signing.loads(APP, purpose, token, 60)
    assert found == payload and made > 0
    serializer = signing.serializer(APP, purpose)
    for spelling in other_spellings(token):
        assert spelling != token and serializer.loads(spelling) == payload  # the decoder is lenient
        assert signing.loads(APP, purpose, spelling, 60) is None
    for other in PURPOSES:
        if other != purpose:
            assert signing.loads(APP, other, token, 60) is None


@settings(max_examples=examples(300, 5000))
@given(
    text=st.text(max_size=300)
    | st.from_regex(r"\.?[A-Za-z0-9_=!-]{1,40}(\.[A-Za-z0-9_=-]{1,30}){0,3}")
)
def test_arbitrary_text_is_refused_never_raises(text):
    for purpose in PURPOSES:
        assert signing.loads(APP, purpose, text, 60) is None


@settings(max_examples=examples(300, 5000))
@given(
    payload=st.dictionaries(st.text(max_size=5), st.text(max_size=40), max_size=4), data=st.data()
)
def test_a_value_changed_anywhere_is_refused_unless_it_is_the_value(payload, data):
    token = signing.dumps(APP, pending.REFERENCE_PURPOSE, payload)
    at = data.draw(st.integers(0, len(token)))
    cut = data.draw(st.integers(0, 3))
    added = data.draw(st.text(max_size=3))
    changed = token[:at] + added + token[at + cut :]
    found = signing.loads(APP, pending.REFERENCE_PURPOSE, changed, 60)
    assert (found is not None) == (changed == token)
    assert found is None or found[0] == payload


def test_an_old_value_and_a_value_too_long_are_refused():
    token = signing.dumps(APP, deletion.PURPOSE, {"x": "y" * 100})
    assert signing.loads(APP, deletion.PURPOSE, token, -1) is None  # expired
    long = signing.dumps(APP, deletion.PURPOSE, {"x": __import__("os").urandom(20000).hex()})
    assert signing.loads(APP, deletion.PURPOSE, long, 60) is None


def test_a_value_made_for_a_client_reads_back_for_that_client_only():
    token = signing.dumps(APP, pending.KEPT_PURPOSE, {"k": "v"}, "alice")
    assert signing.loads(APP, pending.KEPT_PURPOSE, token, 60, "alice")[0] == {
        "k": "v",
        "c": "alice",
    }
    assert signing.loads(APP, pending.KEPT_PURPOSE, token, 60, "bob") is None
    assert (
        signing.loads(APP, pending.KEPT_PURPOSE, token, 60)[0]["c"] == "alice"
    )  # a reader that checks itself
