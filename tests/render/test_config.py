"""The typed config: schema defaults validate; choices and ranges fail as one clear UserError."""

import json

import pytest
from omegaconf import OmegaConf

from dream.errors import UserError
from dream.param import PARAMETERIZATIONS
from dream.speed import COMPILE_MODES, PRECISIONS
from dream.visualize import BACKGROUNDS
from render.config import (
    FOLDER_NAME_BYTES,
    Background,
    Choice,
    Coherence,
    CompileMode,
    Parameterization,
    Precision,
    RenderConfig,
    check_frame_memory,
    check_input_file,
    choice_error,
    choice_type,
    class_start_target,
    folder_name,
    validate,
    validate_live_input,
    validate_output_name,
)


def config(**overrides):
    cfg = OmegaConf.structured(RenderConfig)
    cfg.merge_with(overrides)
    return cfg


def test_schema_defaults_are_valid():
    validate(config())


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
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
        ({"live": {"enabled": True, "host": "0.0.0.0"}}, "live.token"),
        ({"live": {"osc_port": -1}}, "live.osc_port"),
        ({"video": {"long_term": [1, 4]}}, "video.long_term"),
        ({"video": {"long_term": [2, 2]}}, "video.long_term"),
        ({"video": {"long_term": [17]}}, "video.long_term"),
        ({"video": {"batch": 0}}, "video.batch"),
    ],
)
def test_bad_values_name_the_key(overrides, key):
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        validate(config(**overrides))


CHOICE_KEYS = ("visualize.parameterization", "visualize.background", "speed.precision", "speed.compile",
               "motion.border", "motion.sampling", "motion.interpolation", "color.coherence", "output.preset",
               "video.flow", "video.flow_preset", "mask.track", "mask.follow")


def test_the_closed_choices_are_the_enum_keys_of_the_schema():
    schema = OmegaConf.structured(RenderConfig)
    found = {key for key in _dotted_keys(schema) if choice_type(key) is not None}
    assert found == set(CHOICE_KEYS)


def _dotted_keys(node, prefix=""):
    for key in node:
        child = node._get_node(key)
        yield from _dotted_keys(child, f"{prefix}{key}.") if OmegaConf.is_dict(child) else [f"{prefix}{key}"]


@pytest.mark.parametrize("key", CHOICE_KEYS)
def test_each_choice_is_named_by_its_word_and_shown_as_it(key):
    for member in choice_type(key):
        assert member.name == member.value == str(member) == f"{member}" == json.loads(json.dumps(member))


def test_a_choice_equals_its_word_and_is_read_by_it():
    cfg = OmegaConf.structured(RenderConfig)
    cfg.merge_with({"speed": {"compile": "reduce-overhead"}, "color": {"coherence": "none"}})
    assert cfg.speed.compile is CompileMode["reduce-overhead"] and cfg.speed.compile == "reduce-overhead"
    assert cfg.color.coherence == "none" and cfg.color.coherence != "lab" and cfg.color.coherence is Coherence.none
    assert {"reduce-overhead": 1}[cfg.speed.compile] == 1  # tables keyed by the words find the member


def test_a_saved_config_holds_the_words_and_reads_back_the_same():
    cfg = OmegaConf.structured(RenderConfig)
    cfg.merge_with({"speed": {"compile": "max-autotune"}})
    text = OmegaConf.to_yaml(cfg)
    assert "compile: max-autotune" in text and "coherence: lab" in text and "Coherence" not in text
    assert OmegaConf.merge(OmegaConf.structured(RenderConfig), OmegaConf.create(text)) == cfg


@pytest.mark.parametrize(("key", "value", "choices"), [
    ("speed.compile", "fastest", "none, default, reduce-overhead, max-autotune"),
    ("color.coherence", "hsv", "none, lab, rgb"),
    ("mask.track", "optical", "none, flow"),
    ("mask.follow", "eyes", "screen, camera"),
])
def test_a_bad_choice_names_the_key_the_value_and_the_choices(key, value, choices):
    assert str(choice_error(key, value)) == f"Config key '{key}' is '{value}', but must be one of: {choices}."


def test_a_key_that_is_no_closed_choice_has_no_choice_error():
    assert choice_error("color.anchor", "palette.jpg") is None and choice_error("mode", "film") is None


def test_the_choices_are_what_the_dream_library_runs():
    assert set(Parameterization) == set(PARAMETERIZATIONS) and set(Background) == set(BACKGROUNDS)
    assert set(Precision) == {"auto", *PRECISIONS} and set(CompileMode) == set(COMPILE_MODES)
    assert all(issubclass(kind, Choice) for kind in (Parameterization, Background, Precision, CompileMode))


def test_long_term_carry_may_be_off_or_reach_back():
    validate(config(video={"long_term": []}))
    validate(config(video={"long_term": [8, 2, 16]}))


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


def test_a_live_render_on_the_network_with_a_token_is_accepted():
    validate(config(live={"enabled": True, "host": "0.0.0.0", "token": "s3cret", "osc_port": 9000}))


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


@pytest.mark.parametrize("name", ["clip", "my clip (1)", "fotó_2", "a" * 100])
def test_plain_output_names_are_accepted(name):
    validate_output_name(name)


@pytest.mark.parametrize(
    ("name", "words"),
    [("../../x", "make a path"), ("", "no name"), ("sub/clip", "make a path"), (".clip", "starts with '.'"),
     ("-y", "option"), ("a\tb", "control"), ("a" * 101, "longer than 100 bytes"), ("..", "make a path")],
)
def test_output_names_that_are_paths_or_hidden_are_refused(name, words):
    with pytest.raises(UserError, match="output.name") as info:
        validate_output_name(name)
    assert words in str(info.value) and "output.name=clip" in str(info.value)


def test_a_frame_larger_than_the_memory_says_both_numbers():
    check_frame_memory(640, 360, available=2**30)
    with pytest.raises(UserError) as info:
        check_frame_memory(100000, 100000, available=16 * 2**30)
    assert "894.1 GiB" in str(info.value) and "16.0 GiB available" in str(info.value)
    assert "width=" in str(info.value) and "height=" in str(info.value)


def test_an_input_that_is_a_folder_or_missing_is_refused_before_the_model(tmp_path):
    with pytest.raises(UserError, match="is a folder, not an image"):
        check_input_file(str(tmp_path), "image")
    with pytest.raises(UserError, match="Input video .* does not exist"):
        check_input_file(str(tmp_path / "clip.mp4"), "video")
    (tmp_path / "photo.jpg").write_bytes(b"")
    check_input_file(str(tmp_path / "photo.jpg"), "zoom")
    check_input_file(None, "zoom")


@pytest.mark.parametrize(
    ("overrides", "key"),
    [({"dream": {"layer": " "}}, "dream.layer"), ({"dream": {"octave_scale": 1.0}}, "dream.octave_scale"),
     ({"fps": 100000.0}, "fps"), ({"fps": 0.5}, "fps"), ({"seed": -1}, "seed"),
     ({"motion": {"rate_fps": 0.0}}, "motion.rate_fps"), ({"output": {"gif_fps": 0.0}}, "output.gif_fps"),
     ({"loop": True, "loop_frames": 0}, "loop_frames"), ({"output": {"preview_every_s": -1.0}}, "preview_every_s"),
     ({"visualize": {"size": 0}}, "visualize.size"),
     ({"visualize": {"batch": 0}}, "visualize.batch"), ({"visualize": {"learning_rate": -1.0}}, "learning_rate"),
     ({"visualize": {"diversity": -1.0}}, "visualize.diversity"), ({"visualize": {"scales": []}}, "visualize.scales"),
     ({"mode": "visualize", "audio": "song.mp3"}, "audio="), ({"mode": "image", "audio": "song.mp3"}, "audio=")],
)
def test_nonsense_the_render_would_ignore_or_crash_on_is_refused(overrides, key):
    with pytest.raises(UserError, match=key):
        validate(config(**overrides))


@pytest.mark.parametrize(
    ("tempo", "message"),
    [
        ({"bpm": 0}, "tempo.bpm"),
        ({"bpm": "fast"}, "tempo.bpm"),
        ({"bpm": 120, "offset": -1}, "tempo.offset"),
        ({"bpm": 120, "meter": 0}, "tempo.meter"),
        ({"bpm": "auto"}, "pass audio="),
        ({"offset": 0.5}, "need a tempo"),
        ({"bpm": 120, "changes": {1: 90}}, "tempo.changes"),
        ({"bpm": 120, "changes": {9: 0}}, "tempo.changes"),
        ({"bpm": "auto", "changes": {9: 90}}, "tempo.changes' needs tempo.bpm and tempo.offset as numbers"),
    ],
)
def test_bad_tempo_values_name_the_key_and_the_fix(tempo, message):
    overrides = {"tempo": tempo, **({"audio": "song.mp3"} if "changes" in tempo else {})}
    with pytest.raises(UserError, match=message.replace(".", r"\.")):
        validate(config(**overrides))


@pytest.mark.parametrize(
    "tempo",
    [{"bpm": 120}, {"bpm": 97.5, "offset": 0.25, "meter": 3}, {"bpm": 120, "changes": {17: 140, "33": 120}},
     {"bpm": "auto"}, {"bpm": 120, "offset": "auto"}],
)
def test_tempos_given_or_found_in_the_audio_are_valid(tempo):
    validate(config(tempo=tempo, audio="song.mp3"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mode": "zoom", "live": {"enabled": True, "input": "udp://127.0.0.1:5000"}}, "needs mode=video"),
        ({"mode": "video", "live": {"input": "udp://127.0.0.1:5000"}}, "live.enabled=true"),
        ({"mode": "video", "input": "clip.mp4", "live": {"enabled": True, "input": "udp://127.0.0.1:5000"}},
         "Leave out input="),
        ({"mode": "video", "segment": {"count": 2}, "live": {"enabled": True, "input": "udp://127.0.0.1:5000"}},
         "without segments"),
        ({"mode": "video", "live": {"enabled": True, "input": "no_such_clip.mp4"}}, "does not exist"),
    ],
)
def test_live_input_belongs_to_a_live_video_dream(overrides, message):
    with pytest.raises(UserError, match=message):
        validate_live_input(config(**overrides))
