"""``python -m render.tools.list``: models, a model's layers, its classes; unknown names exit 2."""

import pytest

from render.tools.list import main


def test_models_lists_the_offline_ones(capsys):
    main(["models"])
    assert "efficientnet_lite0" in capsys.readouterr().out  # whole, even in a narrow terminal


def test_layers_mark_the_default_dream_layer(capsys):
    main(["layers", "efficientnet_lite0"])
    assert "(default)" in capsys.readouterr().out


def test_classes_are_numbered(capsys):
    main(["classes", "efficientnet_lite0"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1000 and lines[954].split() == ["954", "banana"]


def test_unknown_model_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["layers", "nosuchnet"])
    assert info.value.code == 2 and "nosuchnet" in capsys.readouterr().err
