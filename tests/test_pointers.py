"""JSON pointers: the one place that names a place in a document (policyengine/pointers.py)."""
from __future__ import annotations

import pytest

from policyengine.pointers import array_index, document_order, join, pointer, resolves, tokens

FACTS = {"interactions": [{"id": "a"}, {"id": "b"}], "a/b": {"~": 1}, "consent": None}


def test_a_key_with_slash_or_tilde_is_escaped_and_read_back():
    assert pointer(["a/b", "~"]) == "/a~1b/~0" == join("/a~1b", "~")
    assert tokens("/a~1b/~0") == ["a/b", "~"]


@pytest.mark.parametrize("token, index", [("0", 0), ("12", 12), ("012", None), ("-1", None), ("x", None), ("", None),
                                          ("²", None), ("١", None)])
def test_an_array_index_is_a_whole_number_without_leading_zeros(token, index):
    assert array_index(token) == index


@pytest.mark.parametrize("at, found", [("/interactions/1/id", True), ("/interactions/2", False),
                                       ("/interactions/01", False), ("/a~1b/~0", True), ("/consent", True),
                                       ("/consent/date", False), ("", True), ("/interactions/id", False)])
def test_a_pointer_resolves_only_to_a_value_the_document_holds(at, found):
    assert resolves(FACTS, at) is found


def test_pointers_sort_in_document_order():
    given = ["/transmission_days/10", "/consent", "/transmission_days/2", "/interactions/0"]
    assert sorted(given, key=document_order) == ["/consent", "/interactions/0", "/transmission_days/2",
                                                 "/transmission_days/10"]
