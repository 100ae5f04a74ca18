"""``python -m render.tools.bench_live``: control-to-pixel latency of a live render, from a script and in Chromium.

Starts a live render (``smoke`` at 256x144 by default, an endless zoom) and changes ``motion.zoom`` through
``POST /control`` every ``--spacing`` seconds. The answer names the frame each change applies from; the latency
of a change is the time from sending it to the arrival of the first frame from that one on in the low-latency
view (``/mjpeg``, whose parts carry their frame's index, ``X-Frame``):

- ``script``: a Python client reads ``/mjpeg`` and posts the changes;
- ``chromium``: the same inside the live page in headless Chromium (the ``playwright`` package driving the
  system's ``chromium``): the page's own ``fetch`` posts each change and reads ``/mjpeg``, and a frame counts as
  shown once the browser has decoded it (``createImageBitmap``).

Printed: p50, p95 and the largest latency of each, the render's seconds a frame over the same time (one
dream), and the goal: p95 under 1 s plus one dream. The longest gap between frames is the stall figure.

``panel``: ``motion.angle`` and ``motion.zoom`` typed into the page's control panel in Chromium, and the zoom and
turn between consecutive frames measured from their optical flow, stretch by stretch between the changes.
Extra arguments are added to the render (e.g. ``dream.cadence=auto``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

RENDER = ["--config-name", "smoke", "live.enabled=true", "frames=null", "width=256", "height=144"]
ZOOMS = (1.02, 1.05)  # the changes alternate between these


@dataclass
class Arrivals:
    """(seconds on ``time.perf_counter``, frame index) of each ``/mjpeg`` part, in order of arrival."""

    seen: list[tuple[float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    jpegs: dict[int, bytes] | None = None  # each frame's JPEG, when they are kept

    def add(self, frame: int, jpeg: bytes = b"") -> None:
        with self.lock:
            self.seen.append((time.perf_counter(), frame))
            if self.jpegs is not None:
                self.jpegs[frame] = jpeg

    def first_from(self, frame: int, after: float) -> float | None:
        """When the first part of ``frame`` or later arrived after ``after``, or None (not yet)."""
        with self.lock:
            return next((t for t, index in self.seen if t >= after and index >= frame), None)


def read_mjpeg(url: str, arrivals: Arrivals, stop: threading.Event) -> None:
    """Read the multipart stream at ``url``, noting each part's frame, until ``stop`` is set or it ends."""
    with urllib.request.urlopen(url, timeout=30) as stream:
        while not stop.is_set():
            headers = part_headers(stream)
            if headers is None:
                return
            jpeg = stream.read(int(headers["content-length"]) + 2)[:-2]  # the JPEG and its CRLF
            arrivals.add(int(headers["x-frame"]), jpeg)


def part_headers(stream) -> dict[str, str] | None:
    """The next part's headers (lower-case names), skipping its boundary line; None at the stream's end."""
    headers: dict[str, str] = {}
    while True:
        line = stream.readline()
        if not line:
            return None
        text = line.decode().strip()
        if not text:
            if headers:
                return headers
            continue
        if ":" in text:
            name, value = text.split(":", 1)
            headers[name.strip().lower()] = value.strip()


def post_change(base: str, key: str, value: float) -> tuple[float, int]:
    """POST ``{key: value}`` to ``/control``: (when it was sent, the frame it applies from)."""
    request = urllib.request.Request(f"{base}/control", data=json.dumps({key: value}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    sent = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as reply:
        return sent, int(json.loads(reply.read())["applied"][key])


def script_latencies(base: str, count: int, spacing: float) -> tuple[list[float], Arrivals]:
    """``count`` changes from a Python client, each one's latency in seconds (a change never shown: inf)."""
    arrivals, stop = Arrivals(), threading.Event()
    reader = threading.Thread(target=read_mjpeg, args=(f"{base}/mjpeg", arrivals, stop), daemon=True)
    reader.start()
    time.sleep(spacing)
    latencies = []
    for number in range(count):
        sent, frame = post_change(base, "motion.zoom", ZOOMS[number % 2])
        deadline = sent + max(30.0, 4 * spacing)
        while (shown := arrivals.first_from(frame, sent)) is None and time.perf_counter() < deadline:
            time.sleep(0.005)
        latencies.append(shown - sent if shown is not None else float("inf"))
        time.sleep(max(0.0, sent + spacing - time.perf_counter()))
    stop.set()
    return latencies, arrivals


# Runs inside the page: the changes posted and /mjpeg read by the browser's fetch, frames decoded by the browser.
CHROMIUM_SCRIPT = """async ({count, spacing, zooms}) => {
  const shown = [];
  const decoder = new TextDecoder();
  const reader = (await fetch("/mjpeg")).body.getReader();
  let buffer = new Uint8Array(0);
  let stopped = false;
  async function readParts() {
    while (!stopped) {
      const {value, done} = await reader.read();
      if (done) return;
      const joined = new Uint8Array(buffer.length + value.length);
      joined.set(buffer); joined.set(value, buffer.length); buffer = joined;
      for (;;) {
        const text = decoder.decode(buffer.subarray(0, Math.min(buffer.length, 400)));
        const end = text.indexOf("\\r\\n\\r\\n");
        if (end < 0) break;
        const length = Number(/Content-Length: (\\d+)/.exec(text)[1]);
        const frame = Number(/X-Frame: (\\d+)/.exec(text)[1]);
        const start = new TextEncoder().encode(text.slice(0, end + 4)).length;
        if (buffer.length < start + length + 2) break;
        const jpeg = buffer.slice(start, start + length);
        buffer = buffer.slice(start + length + 2);
        await createImageBitmap(new Blob([jpeg], {type: "image/jpeg"}));
        shown.push([performance.now(), frame]);
      }
    }
  }
  const reading = readParts();
  await new Promise(r => setTimeout(r, spacing * 1000));
  const latencies = [];
  for (let n = 0; n < count; n++) {
    const sent = performance.now();
    const reply = await fetch("/control", {method: "POST", headers: {"Content-Type": "application/json"},
                                           body: JSON.stringify({"motion.zoom": zooms[n % 2]})});
    const frame = (await reply.json()).applied["motion.zoom"];
    let seen = null;
    while (seen === null && performance.now() - sent < Math.max(30000, 4000 * spacing)) {
      const hit = shown.find(([t, f]) => t >= sent && f >= frame);
      if (hit) seen = hit[0]; else await new Promise(r => setTimeout(r, 5));
    }
    latencies.push(seen === null ? null : (seen - sent) / 1000);
    await new Promise(r => setTimeout(r, Math.max(0, sent + spacing * 1000 - performance.now())));
  }
  stopped = true;
  return {latencies, shown: shown.map(([t, f]) => [t / 1000, f])};
}"""


def chromium_latencies(base: str, count: int, spacing: float, browser: str) -> tuple[list[float], Arrivals]:
    """``count`` changes from inside the live page in headless Chromium; latencies as ``script_latencies``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser, args=["--no-sandbox"])
        page = chromium.new_page()
        page.goto(f"{base}/")
        result = page.evaluate(CHROMIUM_SCRIPT, {"count": count, "spacing": spacing, "zooms": list(ZOOMS)})
        chromium.close()
    arrivals = Arrivals([(t, int(frame)) for t, frame in result["shown"]])
    return [float("inf") if x is None else x for x in result["latencies"]], arrivals


def panel_session(base: str, browser: str, changes: list[tuple[str, str]], spacing: float) -> Arrivals:
    """Type each (key, value) of ``changes`` into the live page's panel in headless Chromium, ``spacing`` seconds
    apart, while a Python client keeps every ``/mjpeg`` frame."""
    from playwright.sync_api import sync_playwright

    arrivals, stop = Arrivals(jpegs={}), threading.Event()
    reader = threading.Thread(target=read_mjpeg, args=(f"{base}/mjpeg", arrivals, stop), daemon=True)
    reader.start()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser, args=["--no-sandbox"])
        page = chromium.new_page()
        page.goto(f"{base}/")
        page.wait_for_selector('input[name="motion.zoom"]')
        time.sleep(spacing)
        for key, value in changes:
            field_ = page.locator(f'input[name="{key}"]')
            field_.fill(value)
            field_.press("Enter")  # the panel sends on "change"
            time.sleep(spacing)
        chromium.close()
    stop.set()
    return arrivals


def camera_motion(previous: bytes, current: bytes) -> tuple[float, float]:
    """(zoom, degrees turned) from frame ``previous`` to ``current`` (JPEGs): a similarity fitted by least squares
    to their optical flow, so what the picture did, not what the render was told."""
    import cv2
    import numpy as np

    grey = [cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE) for jpeg in (current, previous)]
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(grey[0], grey[1], None)
    height, width = grey[0].shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    x, y = (xs - width / 2).ravel(), (ys - height / 2).ravel()
    fetched_x, fetched_y = x + flow[..., 0].ravel(), y + flow[..., 1].ravel()
    rows = np.concatenate([np.stack([x, -y, np.ones_like(x), np.zeros_like(x)], 1),
                           np.stack([y, x, np.zeros_like(x), np.ones_like(x)], 1)])
    (a, b, _, _), *_ = np.linalg.lstsq(rows, np.concatenate([fetched_x, fetched_y]), rcond=None)
    # the current frame fetches from the previous one: the camera's zoom and turn are the inverse
    return 1.0 / float(np.hypot(a, b)), float(np.degrees(np.arctan2(b, a)))


def motion_rows(arrivals: Arrivals, changes: list[dict]) -> list[str]:
    """A table row per stretch between the changes the render recorded: the frames, the settings given, and the
    median zoom and turn measured between consecutive frames of the stretch."""
    jpegs = arrivals.jpegs or {}
    starts = sorted({change["frame"] for change in changes})
    bounds = [min(jpegs, default=0), *starts, max(jpegs, default=0) + 1]
    rows, given = [], {}
    for first, end in zip(bounds, bounds[1:]):
        given.update({c["key"]: c["value"] for c in changes if c["frame"] == first})
        pairs = [(jpegs[f - 1], jpegs[f]) for f in range(first + 1, end) if f - 1 in jpegs and f in jpegs]
        if len(pairs) < 2:
            continue
        zooms, turns = zip(*(camera_motion(a, b) for a, b in pairs))
        settings = ", ".join(f"{k}={v}" for k, v in given.items()) or "the preset's"
        rows.append(f"| {first}-{end - 1} | {settings} | {statistics.median(zooms):.4f} | "
                    f"{statistics.median(turns):+.2f} | {len(pairs)} |")
    return rows


def frame_pace(arrivals: Arrivals) -> tuple[float, float]:
    """(median seconds between new frames, the longest gap) of the frames that arrived."""
    times = [t for t, _ in arrivals.seen]
    gaps = [b - a for a, b in zip(times, times[1:])] or [0.0]
    return statistics.median(gaps), max(gaps)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def start_render(folder: Path, port: int, extra: list[str]) -> tuple[subprocess.Popen, str]:
    """The live render, and the page's address once it answers."""
    command = [sys.executable, "-m", "render", *RENDER, f"live.port={port}", *extra, f"hydra.run.dir={folder}"]
    render = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(folder.parent / "render.log", "w"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/control", timeout=2) as reply:
                if json.loads(reply.read())["frame"] >= 2:
                    return render, base
        except OSError:
            pass
        time.sleep(0.5)
    render.kill()
    raise SystemExit(f"the live render did not start; see {folder.parent / 'render.log'}")


def report(client: str, latencies: list[float], arrivals: Arrivals) -> str:
    dream, stall = frame_pace(arrivals)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    verdict = "meets" if p95 < 1.0 + dream else "misses"
    return (f"| {client} | {len(latencies)} | {p50:.2f} | {p95:.2f} | {max(latencies):.2f} | {dream:.2f} | "
            f"{stall:.2f} | {verdict} |")


PANEL_CHANGES = [("motion.angle", "2"), ("motion.zoom", "0.98"), ("motion.angle", "-2"), ("motion.zoom", "1.03")]


def print_panel(base: str, folder: Path, options: argparse.Namespace) -> None:
    """Changes typed into the page's panel, and the motion measured in the frames between them."""
    arrivals = panel_session(base, options.browser, PANEL_CHANGES, options.spacing * 2)
    recorded = [json.loads(line) for line in (folder / "live" / "changes.jsonl").read_text().splitlines()]
    _, stall = frame_pace(arrivals)
    print(f"\nPanel in Chromium: {len(recorded)} changes recorded, longest gap between frames {stall:.2f} s")
    print("| frames | settings | zoom measured | degrees a frame measured | frame pairs |")
    print("|---|---|---|---|---|")
    for row in motion_rows(arrivals, recorded):
        print(row)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="changes per client")
    parser.add_argument("--spacing", type=float, default=2.0, help="seconds between changes")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--clients", nargs="*", default=["script", "chromium", "panel"],
                        choices=["script", "chromium", "panel"])
    parser.add_argument("--browser", default="/usr/bin/chromium", help="the Chromium the chromium client drives")
    options, extra = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        render, base = start_render(folder, options.port, extra)
        try:
            print("| client | changes | p50 s | p95 s | largest s | s a frame (one dream) | longest gap s | "
                  "goal: p95 < 1 s + one dream |")
            print("|---|---|---|---|---|---|---|---|")
            for client in (c for c in options.clients if c != "panel"):
                if client == "script":
                    latencies, arrivals = script_latencies(base, options.count, options.spacing)
                else:
                    latencies, arrivals = chromium_latencies(base, options.count, options.spacing, options.browser)
                print(report(client, latencies, arrivals), flush=True)
            if "panel" in options.clients:
                (folder / "live" / "changes.jsonl").unlink(missing_ok=True)
                print_panel(base, folder, options)
        finally:
            render.terminate()
            render.wait(timeout=60)


if __name__ == "__main__":
    main()
