import pytest

from dream.errors import NameChoiceError, UserError, WeightsError


def test_hierarchy():
    assert issubclass(WeightsError, UserError)
    assert issubclass(NameChoiceError, UserError)
    with pytest.raises(UserError):
        raise WeightsError("no weights")


def test_name_choice_error_lists_close_matches_and_choices():
    error = NameChoiceError("layer", "inception_4x", ["conv1", "inception_4c", "inception_4d", "logits"])
    text = str(error)
    assert text.startswith("Unknown layer 'inception_4x'.")
    suggested = text.split("Did you mean: ")[1].split("?")[0]
    assert set(suggested.split(", ")) == {"inception_4c", "inception_4d"}
    assert "Valid layers: conv1, inception_4c, inception_4d, logits." in text
    assert (error.kind, error.name) == ("layer", "inception_4x")
    assert error.choices == ["conv1", "inception_4c", "inception_4d", "logits"]


def test_close_matches_ignore_case_but_report_the_real_spelling():
    assert "Did you mean: Mixed_6b?" in str(NameChoiceError("layer", "mixed_6B", ["Mixed_6b", "conv1"]))


def test_no_close_match_no_suggestion_and_hint_appended():
    text = str(NameChoiceError("model", "zzz", ["vgg16", "resnet50"], hint="List them with X."))
    assert "Did you mean" not in text
    assert text.endswith("Valid models: vgg16, resnet50. List them with X.")


def test_long_choice_lists_are_cut():
    choices = [f"class{i}" for i in range(100)]
    text = str(NameChoiceError("class", "nothing like it", choices))
    assert "class39, ..." in text
    assert "class40" not in text
