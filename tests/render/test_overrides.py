import pytest

from dream.errors import UserError
from render.cli import compose_preset
from render.overrides import check_composes, output_folder, quote_all, quote_for_hydra, setting_names


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [
        ("motion.zoom=0:(1.04), 120:(1.0)", "motion.zoom='0:(1.04), 120:(1.0)'"),  # quotes the shell stripped
        ("input=photo (1).jpg", "input='photo (1).jpg'"),
        ("input=fotó.jpg", "input='fotó.jpg'"),
        ("input=it's (1).jpg", "input=\"it's (1).jpg\""),
        ("resume=outputs/s-sweep/t/0_seed=1,frames=3", "resume='outputs/s-sweep/t/0_seed=1,frames=3'"),
        ("frames=12", "frames=12"),  # readable as it is: left alone
        ("motion.zoom='0:(1.04)'", "motion.zoom='0:(1.04)'"),
        ("--config-name", "--config-name"),
    ],
)
def test_values_hydra_cannot_read_are_quoted(arg, quoted):
    assert quote_for_hydra(arg) == quoted


def test_a_sweep_stays_a_sweep_in_a_multirun():
    assert quote_all(["seed=1,2,3"], multirun=True) == ["seed=1,2,3"]
    assert quote_all(["seed=1,2,3"]) == ["seed='1,2,3'"]


def test_quoted_schedule_composes_to_the_string_the_user_wrote():
    args = quote_all(["motion.zoom=0:(1.04), 120:(1.0)"])
    assert compose_preset("smoke", args).motion.zoom == "0:(1.04), 120:(1.0)"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["dream.iteratons=3"], ["Unknown setting 'dream.iteratons'", "Did you mean dream.iterations"]),
        (["+dream.iteratons=3"], ["Unknown setting 'dream.iteratons'"]),
        (["+dream.iterations=3"], ["without the '+'"]),
        (["model=efficientnet_lite9"], ["Unknown model 'efficientnet_lite9'", "efficientnet_lite0",
                                        "render.tools.list"]),
        (["dream=foo"], ["Unknown dream option 'foo'", "classic"]),
        (["frames=abc"], ["Setting 'frames' can't be 'abc'", "frames=120"]),
        (["speed.compile=reduce_overhead"], ["Config key 'speed.compile' is 'reduce_overhead', but must be one of: "
                                             "none, default, reduce-overhead, max-autotune."]),
        (["color.coherence=LAB"], ["Config key 'color.coherence' is 'LAB', but must be one of: none, lab, rgb."]),
        (["dream..x=3"], ["Could not read the setting", "Quote"]),
    ],
)
def test_compose_errors_name_the_setting_and_the_closest_names(args, words):
    with pytest.raises(UserError) as error:
        check_composes(compose_preset, "smoke", quote_all(args))
    for word in words:
        assert word in str(error.value)


def test_sweeps_are_left_to_the_launcher():
    check_composes(compose_preset, "smoke", ["-m", "seed=1,2", "segment.index=range(2)", "hydra/launcher=joblib"])


def test_setting_names_are_the_schemas_dotted_keys():
    names = setting_names()
    assert {"frames", "dream.iterations", "motion.zoom", "speed.precision"} <= set(names)


@pytest.mark.parametrize(
    ("args", "folder"),
    [([], "outputs"), (["hydra.run.dir=/x/y"], "/x/y"), (["-m", "hydra.sweep.dir=out/film"], "out/film"),
     (["hydra.run.dir=runs/${now:%H}"], "runs")],
)
def test_output_folder_is_where_hydra_will_write(args, folder):
    assert str(output_folder(args)) == folder
