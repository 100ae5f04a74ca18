import pytest

from dream.errors import NameChoiceError, UserError
from dream.labels import class_index, normalise

LABELS = ["tench", "tiger cat, Felis tigris", "Granny Smith", "banana", "great white shark"]


def test_normalise_folds_case_and_separators():
    assert normalise("  Great_White-Shark ") == "great white shark"
    assert normalise("tiger cat, Felis tigris") == "tiger cat felis tigris"
    assert normalise("a/b.c'd") == "a b c d"


@pytest.mark.parametrize(
    "target, index",
    [
        (3, 3),
        ("0", 0),
        (" 4 ", 4),
        ("banana", 3),
        ("BANANA", 3),
        ("granny_smith", 2),
        ("Great-White shark", 4),
        ("tiger cat", 1),
        ("Felis Tigris", 1),
        ("tiger cat, felis tigris", 1),
    ],
)
def test_class_index_matches_forgivingly(target, index):
    assert class_index(LABELS, target) == index


def test_exact_label_wins_over_a_synonym():
    labels = ["cat, tabby", "tabby"]
    assert class_index(labels, "tabby") == 1


def test_index_out_of_range_names_the_valid_range():
    with pytest.raises(NameChoiceError, match=r"0\.\.4"):
        class_index(LABELS, 5)


def test_unknown_name_lists_close_matches():
    with pytest.raises(NameChoiceError) as info:
        class_index(LABELS, "bananna")
    assert isinstance(info.value, UserError)
    assert "Did you mean: banana?" in str(info.value)
    assert "index" in str(info.value)
