"""Bad input a new user types, through the real command line in this process.

Each case must end with a non-zero exit and one paragraph that names the key (or the file), no traceback,
and no run folder left behind (or, for a folder that was there, nothing changed in it). Most are refused
before any model loads; the few that need the model to know (a layer, a class) are marked slow.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import imageio_ffmpeg
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A folder of odd inputs: a text file named .jpg, a zero-byte video, a folder, a text file, a tiny clip."""
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "notes.jpg").write_text("just some notes, not a picture\n")
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "folder").mkdir()
    (folder / "notes.txt").write_text("x")
    (folder / "weights.pth").write_text("not weights")
    torch.manual_seed(0)
    from render.media.images import save_png

    save_png(torch.rand(1, 3, 48, 64), folder / "ok.png")
    write_test_media(folder)
    return folder


def write_test_media(folder: Path) -> None:
    """A half-second 64x48 clip and a one-second tone, made by ffmpeg's own test sources."""
    import subprocess

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for source, name in (("testsrc=size=64x48:rate=12:duration=0.5", "clip.mp4"),
                         ("sine=frequency=440:duration=1", "tone.wav")):
        subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", source, "-pix_fmt", "yuv420p", str(folder / name)]
                       if name.endswith(".mp4") else [ffmpeg, "-v", "error", "-f", "lavfi", "-i", source,
                                                      str(folder / name)], check=True)


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """``python -m render ARGV`` in this process: (exit status, everything it printed)."""
    from hydra.core.global_hydra import GlobalHydra

    from render.cli import main

    GlobalHydra.instance().clear()
    saved = sys.argv
    sys.argv = ["render", *argv]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = saved
        GlobalHydra.instance().clear()
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def assert_refused(code: int, text: str, words: list[str]) -> str:
    """One ``Error:`` paragraph naming ``words``, a non-zero exit and no traceback; returns the paragraph."""
    assert code not in (0, None), text
    assert "Traceback" not in text, text
    assert "Error:" in text, text
    paragraph = text[text.index("Error:"):].strip()
    assert "\n" not in paragraph, paragraph  # one paragraph (soft-wrapped: a single line)
    for word in words:
        assert word in paragraph, paragraph
    return paragraph


F = "{files}"  # stands for the folder of odd inputs in the cases below

# (case, preset, overrides, words the paragraph must hold)
CASES = [
    # names and folders
    ("name_escapes_the_folder", "smoke", ["output.name=../../x"], ["output.name", "plain file name"]),
    ("name_empty", "smoke", ["output.name="], ["output.name", "no name"]),
    ("name_in_a_sub_folder", "smoke", ["output.name=sub/clip"], ["output.name", "'sub/clip'"]),
    ("name_hidden", "smoke", ["output.name=.clip"], ["output.name", "starts with '.'"]),
    ("name_too_long", "smoke", ["output.name=" + "a" * 300], ["output.name", "longer than 100 bytes"]),
    ("name_option_like", "smoke", ["output.name=-y"], ["output.name"]),
    # silent nonsense
    ("layer_empty", "smoke", ["dream.layer="], ["dream.layer", "empty"]),
    ("frame_too_big_for_memory", "dream_image", [f"input={F}/ok.png", "width=100000", "height=100000"],
     ["100000x100000", "GiB", "available", "width="]),
    ("octave_scale_1", "smoke", ["dream.octave_scale=1"], ["dream.octave_scale", "greater than 1"]),
    ("octave_scale_below_1", "smoke", ["dream.octave_scale=0.5"], ["dream.octave_scale"]),
    ("audio_on_a_class_picture", "class_visualize", [f"audio={F}/tone.wav"], ["audio=", "mode=visualize"]),
    ("audio_on_a_still", "dream_image", [f"input={F}/ok.png", f"audio={F}/tone.wav"], ["audio=", "mode=image"]),
    ("value_with_an_unquoted_space", "class_visualize", ["target=golden", "retriever"],
     ["'retriever'", "\"target=golden retriever\"", "make render ARGS=\"target='golden retriever'\""]),
    # typos and wrong types
    ("key_typo", "smoke", ["dream.iteratons=3"], ["dream.iteratons", "dream.iterations"]),
    ("preset_typo", "zoom_place", [], ["zoom_place", "zoom_places"]),
    ("unknown_model", "smoke", ["model=efficientnet_lite9"], ["efficientnet_lite9", "efficientnet_lite2"]),
    ("int_as_text", "smoke", ["frames=abc"], ["'frames'", "Integer"]),
    ("bool_as_text", "smoke", ["loop=maybe"], ["'loop'", "bool"]),
    ("unknown_addition", "smoke", ["+foo=1"], ["foo"]),
    ("border_typo", "smoke", ["motion.border=mirror"], ["motion.border", "reflection"]),
    ("interpolation_typo", "smoke", ["motion.interpolation=cubik"], ["motion.interpolation", "cubic"]),
    ("precision_typo", "smoke", ["speed.precision=half"], ["speed.precision", "bfloat16"]),
    ("compile_with_an_underscore", "smoke", ["speed.compile=reduce_overhead"],
     ["'speed.compile' is 'reduce_overhead'", "none, default, reduce-overhead, max-autotune"]),
    ("coherence_unknown", "smoke", ["color.coherence=hsv"], ["'color.coherence' is 'hsv'", "none, lab, rgb"]),
    ("mask_track_typo", "smoke", ["mask.track=optical"], ["'mask.track' is 'optical'", "none, flow"]),
    ("mask_follow_typo", "smoke", ["mask.follow=eyes"], ["'mask.follow' is 'eyes'", "screen, camera"]),
    ("background_typo", "class_visualize", ["visualize.background=blur"], ["'visualize.background'", "calm, keep"]),
    ("flow_preset_typo", "video_dream", [f"input={F}/clip.mp4", "video.flow_preset=slowest"],
     ["'video.flow_preset' is 'slowest'", "ultrafast, fast, medium"]),
    ("mode_typo", "smoke", ["mode=zom"], ["zom"]),
    ("device_unknown", "smoke", ["device=tpu"], ["device=tpu"]),
    # sizes and ranges
    ("width_negative", "smoke", ["width=-64"], ["'width'", "greater than 0"]),
    ("height_zero", "smoke", ["height=0"], ["'height'"]),
    ("frames_zero", "smoke", ["frames=0"], ["'frames'"]),
    ("fps_huge", "smoke", ["fps=100000"], ["'fps'", "240"]),
    ("fps_tiny", "smoke", ["fps=0.001"], ["'fps'"]),
    ("fps_not_a_number", "smoke", ["fps=nan"], ["'fps'"]),
    ("motion_rate_zero", "smoke", ["motion.rate_fps=0"], ["motion.rate_fps"]),
    ("seed_negative", "smoke", ["seed=-1"], ["'seed'"]),
    ("seed_too_large", "smoke", ["seed=99999999999999999999"], ["'seed'"]),
    ("jitter_negative", "smoke", ["dream.jitter=-5"], ["dream.jitter"]),
    ("crf_out_of_range", "smoke", ["output.crf=99"], ["output.crf", "0..51"]),
    ("tile_negative", "smoke", ["dream.tile_size=-3"], ["dream.tile_size"]),
    ("gif_width_zero", "smoke", ["output.gif=true", "output.gif_width=0"], ["output.gif_width"]),
    ("checkpoint_every_zero", "smoke", ["output.checkpoint_every=0"], ["output.checkpoint_every"]),
    ("cadence_too_high", "smoke", ["dream.cadence=9"], ["dream.cadence", "1..8"]),
    ("colour_strength_2", "smoke", ["color.strength=2"], ["color.strength"]),
    ("canvas_size_zero", "class_visualize", ["visualize.size=0"], ["visualize.size"]),
    ("batch_zero", "class_visualize", ["visualize.batch=0"], ["visualize.batch"]),
    ("crop_size_zero", "class_visualize", ["visualize.crop_size=0"], ["visualize.crop_size"]),
    ("learning_rate_negative", "class_visualize", ["visualize.learning_rate=-1"], ["visualize.learning_rate"]),
    ("diversity_negative", "class_visualize", ["visualize.diversity=-1"], ["visualize.diversity"]),
    ("scales_empty", "class_visualize", ["visualize.crops=0", "visualize.scales=[]"], ["visualize.scales"]),
    ("loop_of_no_frames", "smoke", ["loop=true", "loop_frames=0"], ["loop_frames"]),
    ("preview_interval_negative", "smoke", ["output.preview_every_s=-1"], ["output.preview_every_s"]),
    ("encoder_preset_typo", "smoke", ["output.preset=superfast2"], ["output.preset", "superfast"]),
    ("port_out_of_range", "smoke", ["live.enabled=true", "live.port=70000"], ["live.port"]),
    ("empty_class_start", "smoke", ["init=class:"], ["'init'", "class:NAME"]),
    ("loop_on_a_still", "dream_image", [f"input={F}/ok.png", "loop=true"], ["loop=true"]),
    # odd files
    ("text_file_named_jpg", "dream_image", [f"input={F}/notes.jpg"], ["notes.jpg", "not an image"]),
    ("zero_byte_video", "video_dream", [f"input={F}/empty.mp4"], ["empty.mp4"]),
    ("folder_as_image", "dream_image", [f"input={F}/folder"], ["is a folder"]),
    ("missing_image", "smoke", ["input=nothere.png"], ["nothere.png", "does not exist"]),
    ("non_utf8_file_name", "dream_image", ["input=" + "/tmp/\udcff\udcfe.jpg"], ["\\xff\\xfe.jpg", "does not exist"]),
    ("missing_mask", "smoke", [f"mask.source={F}/nomask.png"], ["mask.source", "does not exist"]),
    ("text_file_as_audio", "smoke", [f"audio={F}/notes.txt"], ["audio=", "notes.txt"]),
    ("resume_of_nothing", "smoke", [f"resume={F}/folder"], ["resume=", "no render to continue"]),
    ("video_batch_zero", "video_dream", [f"input={F}/clip.mp4", "video.batch=0"], ["video.batch"]),
]


@pytest.mark.parametrize(("preset", "overrides", "words"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_one_paragraph_leaving_nothing(preset, overrides, words, files, tmp_path, capsys):
    run_dir = tmp_path / "run"
    overrides = [arg.replace(F, str(files)) for arg in overrides]
    code, text = run_cli(["--config-name", preset, *overrides, f"hydra.run.dir={run_dir}"], capsys)
    assert_refused(code, text, words)
    assert not run_dir.exists(), sorted(p.name for p in run_dir.iterdir())


# cases that load the network before they can know (a layer, a class, a weights file)
MODEL_CASES = [
    ("unknown_layer", "smoke", ["dream.layer=nosuch"], ["nosuch", "block10"]),
    ("unknown_class", "class_visualize", ["target=notaclass"], ["notaclass"]),
    ("channel_of_an_unknown_layer", "class_visualize", ["target=block99:5"], ["block99"]),
    ("text_file_as_weights", "smoke", [f"model.weights={F}/weights.pth"], ["weights.pth"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("preset", "overrides", "words"), [c[1:] for c in MODEL_CASES],
                         ids=[c[0] for c in MODEL_CASES])
def test_bad_input_the_model_must_see_is_refused_leaving_nothing(preset, overrides, words, files, tmp_path, capsys):
    run_dir = tmp_path / "run"
    overrides = [arg.replace(F, str(files)) for arg in overrides]
    code, text = run_cli(["--config-name", preset, *overrides, f"hydra.run.dir={run_dir}"], capsys)
    assert_refused(code, text, words)
    assert not run_dir.exists(), sorted(p.name for p in run_dir.iterdir())


def test_a_folder_of_notes_is_refused_and_left_as_it_was(tmp_path, capsys):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("my notes")
    code, text = run_cli(["--config-name", "smoke", f"hydra.run.dir={notes}"], capsys)
    assert_refused(code, text, ["hydra.run.dir=", "todo.txt", "new or empty folder"])
    assert [p.name for p in notes.iterdir()] == ["todo.txt"] and (notes / "todo.txt").read_text() == "my notes"


def test_a_live_render_whose_port_is_taken_leaves_no_run_folder(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, text = run_cli(["--config-name", "smoke", "live.enabled=true", f"live.port={port}", "frames=3",
                              f"hydra.run.dir={tmp_path / 'run'}"], capsys)
    assert_refused(code, text, [f"port {port}", "live.port="])
    assert not (tmp_path / "run").exists()


def test_the_slurm_example_off_a_cluster_is_refused_leaving_no_sweep_folder(files, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here, whatever this machine has
    sweep = tmp_path / "film"
    code, text = run_cli(["-m", "--config-name", "video_dream", f"input={files}/clip.mp4", "segment.count=16",
                          "segment.index=range(16)", "hydra/launcher=submitit_slurm",
                          "hydra.launcher.partition=gpu", "hydra.launcher.gpus_per_node=1",
                          "hydra.launcher.timeout_min=240", "hydra.launcher.max_num_timeout=3",
                          f"hydra.sweep.dir={sweep}"], capsys)
    assert_refused(code, text, ["hydra/launcher=submitit_slurm", "sbatch", "hydra/launcher=joblib"])
    assert not sweep.exists()
