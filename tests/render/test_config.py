"""The typed config: schema defaults validate; choices and ranges fail as one clear UserError."""

import pytest
from omegaconf import OmegaConf

from dream.errors import UserError
from render.config import FOLDER_NAME_BYTES, RenderConfig, class_start_target, folder_name, validate


def config(**overrides):
    cfg = OmegaConf.structured(RenderConfig)
    cfg.merge_with(overrides)
    return cfg


def test_schema_defaults_are_valid():
    validate(config())


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"speed": {"precision": "int8"}}, "speed.precision"),
        ({"fps": 0}, "fps"),
        ({"dream": {"octave_scale": -1.0}}, "dream.octave_scale"),
        ({"output": {"crf": 60}}, "output.crf"),
        ({"color": {"strength": 2.0}}, "color.strength"),
        ({"color": {"anchor": "no_such_palette.jpg"}}, "color.anchor"),
        ({"dream": {"tile_size": "big"}}, "dream.tile_size"),
        ({"dream": {"tile_size": -1}}, "dream.tile_size"),
        ({"audio_smoothing": -0.1}, "audio_smoothing"),
        ({"frames": None}, "frames"),
        ({"live": {"port": 70000}}, "live.port"),
        ({"live": {"url": "http://example.com/live"}}, "live.url"),
    ],
)
def test_bad_values_name_the_key(overrides, key):
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        validate(config(**overrides))


def test_a_size_may_come_from_the_input_when_the_mode_is_sized_by_it():
    validate(config(mode="video", frames=None, width=None, height=None), sized_by_input=True)
    with pytest.raises(UserError, match="'width' is None"):
        validate(config(width=None))


@pytest.mark.parametrize("tile_size", ["auto", 512, 0])
@pytest.mark.parametrize("precision", ["auto", "float32", "bfloat16", "float16"])
def test_auto_and_explicit_speed_values_are_valid(tile_size, precision):
    validate(config(dream={"tile_size": tile_size}, speed={"precision": precision}))


def test_speed_defaults_are_auto():
    cfg = config()
    assert (cfg.speed.precision, cfg.dream.tile_size) == ("auto", "auto")


def test_frames_may_come_from_the_soundtrack():
    validate(config(audio="song.mp3", frames=None))


def test_live_renders_may_be_endless():
    validate(config(frames=None, live={"enabled": True}))


def test_live_defaults_listen_on_this_machine_only():
    live = config().live
    assert (live.enabled, live.host, live.port, live.url, live.record) == (False, "127.0.0.1", 8000, None, False)


def test_rtmp_addresses_are_accepted():
    validate(config(live={"url": "rtmps://live.example.com/app/key"}))


def test_folder_name_keeps_short_overrides_as_they_are():
    assert folder_name("frames=3,seed=1") == "frames=3,seed=1"


def test_folder_name_cuts_long_overrides_to_distinct_names_the_disk_takes():
    zooms = [", ".join(f"{i}:(1.0{i % 10 + shift})" for i in range(60)) for shift in (0, 1)]
    names = [folder_name(f"motion.zoom='{zoom}'") for zoom in zooms]
    assert all(len(name.encode()) <= FOLDER_NAME_BYTES for name in names)
    assert names[0] != names[1]
    assert names[0].startswith("motion.zoom='0:(1.00)")


def test_folder_name_is_one_path_component():
    assert "/" not in folder_name("audio=music/song (1).mp3,mask.source=masks/é.png")


@pytest.mark.parametrize(("init", "target"), [("noise", None), ("class:banana", "banana"),
                                              ("class:golden retriever", "golden retriever"),
                                              ("class:block10:97", "block10:97")])
def test_class_start_target_reads_init_once(init, target):
    assert class_start_target(init) == target


@pytest.mark.parametrize("init", ["banana", "class:", "Class:banana", "photo"])
def test_an_init_that_is_neither_noise_nor_a_class_is_refused(init):
    with pytest.raises(UserError, match="init=class:banana"):
        class_start_target(init)
