import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import imageio_ffmpeg
import pytest
from PIL import Image

from dream.errors import UserError
from render.media.web_formats import web_outputs
from render.tools.gallery import build_gallery, find_runs, main

NASTY = '<script>alert("x")</script> & co'

PLAYBACK_PROBE = """<script>
const videos = [...document.querySelectorAll('video')];
const samples = videos.map(() => []);
const readiness = videos.map(() => 0);  // the best readyState seen: a looping clip drops to 1 as it restarts
const timer = setInterval(() => videos.forEach((v, i) => {
  samples[i].push(v.currentTime);
  readiness[i] = Math.max(readiness[i], v.readyState);
}), 100);
setTimeout(() => {
  clearInterval(timer);
  const report = {
    videos: videos.map((v, i) => ({src: v.currentSrc, error: v.error && v.error.code, ready: readiness[i],
      advanced: samples[i].some((t, j) => j > 0 && t > samples[i][j - 1])})),
    images: [...document.querySelectorAll('figure > img')].map(img => ({src: img.src, width: img.naturalWidth})),
  };
  const out = document.createElement('pre');
  out.id = 'playback';
  out.textContent = JSON.stringify(report);
  document.body.append(out);
}, 2500);
</script>
"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 2 s, 12 fps mp4 with its WebM and poster, made once and copied into the video runs."""
    path = tmp_path_factory.mktemp("clip") / "dream.mp4"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=12:d=2",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)
    web_outputs(path, SimpleNamespace(webm=True, gif=False, gif_width=480, gif_fps=15, poster=True))
    return path


def _run_folder(run_dir: Path, clip: Path | None, **meta) -> Path:
    """A finished run folder as render.run leaves it: media, meta.json and .hydra/config.yaml."""
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text(f"preset: {meta.get('preset', 'smoke')}\n")
    if clip is None:
        Image.new("RGB", (96, 64), "teal").save(run_dir / "dream.png")
        media = {"media": "dream.png"}
    else:
        for name in ("dream.mp4", "dream.webm", "dream_poster.jpg"):
            shutil.copy(clip.with_name(name), run_dir / name)
        media = {"media": "dream.mp4", "webm": "dream.webm", "poster": "dream_poster.jpg"}
    facts = {"preset": "smoke", "mode": "zoom", "model": "efficientnet_lite0", "fallback": False,
             "objective": ["l2(block10)"], "frames": 24, "fps": 12.0, "width": 96, "height": 64, "seed": 1,
             "elapsed_seconds": 3.25, "finished": True}
    (run_dir / "meta.json").write_text(json.dumps({**facts, **media, **meta}))
    return run_dir


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, clip) -> Path:
    """An outputs/ folder: a zoom run, a two-run sweep (one on a fallback model), a still, and two non-runs."""
    root = tmp_path_factory.mktemp("outputs")
    _run_folder(root / "smoke" / "2026-01-01_10-00-00", clip)
    sweep = root / "smoke-sweep" / "2026-01-02_10-00-00"
    _run_folder(sweep / "0_seed=1", clip, seed=1)
    _run_folder(sweep / "1_seed=2", clip, seed=2, preset=NASTY, objective=[NASTY], fallback=True,
                requested_model="googlenet_places365")
    _run_folder(root / "dream_image" / "2026-01-03", None, preset="dream_image", mode="image", frames=1)
    _run_folder(root / "smoke" / "unfinished", clip, finished=False)
    (root / "smoke" / "garbled").mkdir()
    (root / "smoke" / "garbled" / "meta.json").write_text("{not json")
    return root


def test_finds_every_finished_run_once(outputs):
    runs = find_runs([outputs, outputs / "smoke-sweep"])
    assert [run.name for run in runs] == ["2026-01-03", "2026-01-01_10-00-00", "0_seed=1", "1_seed=2"]
    assert find_runs([outputs / "smoke-sweep" / "2026-01-02_10-00-00" / "0_seed=1"])[0].name == "0_seed=1"


def test_no_runs_or_missing_path_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="No finished run folder"):
        find_runs([tmp_path])
    with pytest.raises(UserError, match="does not exist"):
        find_runs([tmp_path / "nowhere"])


def test_page_lists_every_run_with_relative_links(outputs):
    page, count = build_gallery([outputs], outputs / "index.html")
    text = page.read_text()
    assert count == 4 and text.count("<figure>") == 4 and "4 runs" in text
    assert text.count("<video muted loop autoplay playsinline") == 3 and text.count("<img ") == 1
    assert '<source src="smoke/2026-01-01_10-00-00/dream.webm" type="video/webm">' in text
    assert '<source src="smoke/2026-01-01_10-00-00/dream.mp4" type="video/mp4">' in text
    assert 'poster="smoke/2026-01-01_10-00-00/dream_poster.jpg"' in text
    assert 'src="dream_image/2026-01-03/dream.png"' in text
    assert 'href="smoke-sweep/2026-01-02_10-00-00/0_seed%3D1/.hydra/config.yaml"' in text
    assert f"--config-path {outputs.resolve()}/smoke/2026-01-01_10-00-00/.hydra --config-name config" in text
    assert "unfinished" not in text and "garbled" not in text
    for attribute in re.findall(r'(?:src|href|poster)="([^"]*)"', text):
        assert not attribute.startswith(("/", "file:", "http")), attribute  # works from disk, fetches nothing
    assert "efficientnet_lite0" in text and "96x64" in text and "3.2 s" in text


def test_page_escapes_what_runs_recorded(outputs, tmp_path):
    text = build_gallery([outputs / "smoke-sweep"], tmp_path / "page" / "index.html")[0].read_text()
    assert "<script>" not in text
    assert html.escape(NASTY) in text
    assert "fallback for googlenet_places365" in text


def test_cli_default_out_and_summary(outputs, capsys, monkeypatch):
    monkeypatch.chdir(outputs.parent)
    main([outputs.name])
    assert (outputs / "index.html").is_file() is True
    assert "4 runs" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main([str(outputs / "nowhere")])
    assert info.value.code == 2 and "does not exist" in capsys.readouterr().err


def _chromium() -> str:
    names = ("chromium", "chromium-browser")
    for candidate in [shutil.which(name) for name in names] + [f"/usr/bin/{name}" for name in names]:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium); the gallery page is checked "
                "in a real headless browser, so this check was not run.")


def _run_chromium(browser: str, profile: Path, *args: str) -> str:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio",
             f"--user-data-dir={profile}", "--autoplay-policy=no-user-gesture-required"]
    result = subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_every_video_plays_in_chromium(outputs, tmp_path):
    browser = _chromium()
    page, count = build_gallery([outputs], outputs / "index.html")
    probe = page.with_name("index_probe.html")
    probe.write_text(page.read_text().replace("</body>", PLAYBACK_PROBE + "</body>"))
    # Virtual time runs the page's 2.5 s without waiting them out, and playback advances with it.
    dom = _run_chromium(browser, tmp_path / "profile1", "--virtual-time-budget=6000", "--dump-dom", probe.as_uri())
    found = re.search(r'<pre id="playback">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    report = json.loads(html.unescape(found.group(1)))
    assert len(report["videos"]) == 3
    for video in report["videos"]:
        assert video["error"] is None and video["ready"] >= 2, video
        assert video["src"].endswith(".webm"), video  # the first source, playable without H.264
        assert video["advanced"] is True, video
    assert [image["width"] for image in report["images"]] == [96]

    screenshot = tmp_path / "gallery.png"
    _run_chromium(browser, tmp_path / "profile2", "--virtual-time-budget=1500", "--hide-scrollbars",
                  "--window-size=1280,1400", f"--screenshot={screenshot}", page.as_uri())
    with Image.open(screenshot) as shot:
        assert shot.size == (1280, 1400)
        assert len(shot.convert("RGB").getcolors(1 << 20) or range(2000)) > 1000  # media, not a blank page
    shutil.copy(screenshot, "/tmp/gallery_screenshot.png")


def test_a_class_visualisation_with_a_list_of_stills_is_shown(tmp_path):
    run_dir = _run_folder(tmp_path / "class_visualize" / "2026-01-04", None, preset="class_visualize",
                          mode="visualize")
    shutil.copy(run_dir / "dream.png", run_dir / "dream_importance.png")
    meta = json.loads((run_dir / "meta.json").read_text())
    (run_dir / "meta.json").write_text(json.dumps({**meta, "media": ["dream.png", "dream_importance.png"]}))
    text = build_gallery([tmp_path], tmp_path / "index.html")[0].read_text()
    assert '<img src="class_visualize/2026-01-04/dream.png"' in text
    assert 'href="class_visualize/2026-01-04/dream_importance.png"' in text


def test_the_page_is_written_beside_the_runs_it_shows(outputs, capsys, monkeypatch):
    monkeypatch.chdir(outputs.parent)
    main([f"{outputs.name}/smoke-sweep"])
    page = outputs / "smoke-sweep" / "index.html"
    assert page.is_file()
    assert f"Wrote {page}" in capsys.readouterr().out
