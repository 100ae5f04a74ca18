import pytest

from dream.models.registry import load_model
from render.tools import bench_defaults


def test_random_weights_file_loads_through_the_real_loader(tmp_path):
    path = bench_defaults.random_weights_file("googlenet_places365", tmp_path)
    loaded = load_model("googlenet_places365", weights=str(path), warn=lambda _: None)
    assert loaded.record["fallback"] is False and loaded.record["weights_source"] == "local file"


def test_in_turns_calls_the_timers_alternately_and_takes_medians():
    calls = []

    def timer(name, values):
        values = iter(values)
        return lambda: calls.append(name) or next(values)

    seconds = bench_defaults.in_turns({"a": timer("a", [3.0, 1.0, 2.0]), "b": timer("b", [5.0, 4.0, 6.0])}, 3)
    assert seconds == {"a": 2.0, "b": 5.0}
    assert calls == ["a", "b"] * 3


@pytest.mark.slow
def test_defaults_section_compares_old_and_new_on_both_models(capsys):
    from rich.console import Console

    rows = bench_defaults.compare_defaults(96, 64, repeats=1)
    assert [r["model"].split()[0] for r in rows] == ["googlenet_places365", "efficientnet_lite0"]
    for r in rows:
        assert r["old_s"] > 0 and r["new_s"] > 0 and r["speedup"] == pytest.approx(r["old_s"] / r["new_s"])
        assert r["precision_requested"] == "auto" and r["tile_size"] == 0
        assert (r["forced_bf16_s"] is None) == (r["precision"] == "bfloat16")
    bench_defaults.print_defaults(Console(width=200), rows)
    assert "speedup" in capsys.readouterr().out


def test_tiles_section_times_every_tile_size():
    rows = bench_defaults.compare_tiles((("efficientnet_lite0", "block3"),), 96, 64, (0, 48), repeats=1)
    assert [r["tile_size"] for r in rows] == [0, 48]
    assert rows[0]["vs_untiled"] == 1.0 and all(r["seconds"] > 0 for r in rows)


def test_profile_names_the_ops_of_each_precision():
    profiled = bench_defaults.profile_step("efficientnet_lite0", "block3", 64, 48, top=3)
    assert set(profiled) == {"float32", "bfloat16"}
    for ops in profiled.values():
        assert len(ops) == 4 and ops[-1]["op"] == "total" and ops[0]["ms"] > 0
