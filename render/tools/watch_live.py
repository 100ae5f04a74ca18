"""Watch a live page in headless Chromium: is the time advancing, without stalls, with a moving picture?

``python -m render.tools.watch_live http://127.0.0.1:8000/ --seconds 180`` opens the page
as a viewer would, reads the page's <video> four times a second (its ``currentTime``, and a
small fingerprint of the picture drawn on a canvas) and prints a JSON report: how far
playback got, the longest time ``currentTime`` stood still once playing, how many different
pictures were seen, and whether the stream ended or failed. Chromium is driven over its
DevTools pipe (``--remote-debugging-pipe``), so nothing but the browser is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

from dream.errors import UserError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
SAMPLE_S = 0.25
# currentTime, readyState, ended, error code and an 8x8 grey fingerprint of the picture on a canvas
PROBE = """(() => {
  const v = document.querySelector("video");
  if (!v) return null;
  let picture = null;
  if (v.readyState >= 2 && v.videoWidth) {
    const c = document.createElement("canvas"); c.width = 8; c.height = 8;
    const g = c.getContext("2d"); g.drawImage(v, 0, 0, 8, 8);
    const d = g.getImageData(0, 0, 8, 8).data; picture = [];
    for (let i = 0; i < d.length; i += 4) picture.push((d[i] + d[i + 1] + d[i + 2]) / 3 | 0);
  }
  return {time: v.currentTime, ready: v.readyState, ended: v.ended, error: v.error && v.error.code, picture};
})()"""


def find_browser(explicit: str | None = None) -> str | None:
    """The Chromium executable to use: ``explicit``, or the first of ``BROWSERS`` on PATH."""
    if explicit:
        return explicit
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


class DevToolsPipe:
    """A headless Chromium driven over ``--remote-debugging-pipe`` (fd 3 commands in, fd 4 replies out)."""

    def __init__(self, browser: str, profile: str):
        to_browser, self._commands = os.pipe()
        self._replies, from_browser = os.pipe()

        def wire_fds():  # in the child: the pipe ends become fds 3 and 4 (dup first: they may be 3 or 4 already)
            read_end, write_end = os.dup(to_browser), os.dup(from_browser)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--mute-audio",
                "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={profile}", "about:blank"]
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, close_fds=False, preexec_fn=wire_fds,
                                      start_new_session=True)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._next_id, self._session = b"", 0, None

    def call(self, method: str, params: dict | None = None) -> dict:
        """Send one DevTools command (to the open page, once there is one) and return its result."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if self._session:
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"Chromium refused {method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", {"url": url})["targetId"]
        self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def close(self) -> None:
        # the whole process group: Chromium's helpers outlive the browser and keep writing to its profile
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._proc.wait()
        os.close(self._commands)
        os.close(self._replies)

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe (did it start? try it by hand with --headless)")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)


@dataclass
class PlaybackReport:
    """What a viewer saw: seconds watched, video time played, the longest stall once playing, distinct pictures."""

    watched_s: float = 0.0
    first_play_s: float | None = None  # wall seconds until currentTime first moved
    played_s: float = 0.0  # how far currentTime advanced
    longest_stall_s: float = 0.0  # longest wall time with currentTime standing still, after playback began
    pictures: int = 0  # distinct 8x8 fingerprints seen
    ended: bool = False
    error: int | None = None  # the video's MediaError code at the last sample (the page retries after one)
    samples: list = field(default_factory=list, repr=False)


def watch(url: str, seconds: float, browser: str | None = None, stop_when_ended: bool = True) -> PlaybackReport:
    """Open ``url`` in headless Chromium and sample its <video> for ``seconds`` (see the module docstring)."""
    executable = find_browser(browser)
    if executable is None:
        raise UserError(f"No Chromium found (looked for {', '.join(BROWSERS)}); install it (apt-get install "
                        "chromium) or pass --browser PATH.")
    # a helper that escaped the process group may still write a file into the profile as it goes
    with tempfile.TemporaryDirectory(prefix="watch_live_", ignore_cleanup_errors=True) as profile:
        pipe = DevToolsPipe(executable, profile)
        try:
            pipe.open(url)
            return _sample(pipe, seconds, stop_when_ended)
        finally:
            pipe.close()


def _sample(pipe: DevToolsPipe, seconds: float, stop_when_ended: bool) -> PlaybackReport:
    report, pictures = PlaybackReport(), set()
    started = time.monotonic()
    last_time = moved_at = None
    while time.monotonic() - started < seconds:
        now, state = time.monotonic() - started, pipe.evaluate(PROBE)
        if state is not None:
            report.samples.append((round(now, 2), state["time"]))
            if state["picture"]:
                pictures.add(tuple(state["picture"]))
            if last_time is not None and state["time"] > last_time:
                report.first_play_s = report.first_play_s if report.first_play_s is not None else now
                moved_at = now
            elif moved_at is not None and not state["ended"]:
                report.longest_stall_s = max(report.longest_stall_s, now - moved_at)
            last_time = state["time"]
            report.played_s, report.ended, report.error = state["time"], state["ended"], state["error"]
            if report.ended and stop_when_ended:
                break
        time.sleep(SAMPLE_S)
    report.watched_s, report.pictures = time.monotonic() - started, len(pictures)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the live page, e.g. http://127.0.0.1:8000/")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to watch")
    parser.add_argument("--browser", help="the Chromium executable (default: the first on PATH)")
    args = parser.parse_args(argv)
    try:
        report = watch(args.url, args.seconds, args.browser)
    except UserError as err:
        print(err, file=sys.stderr)
        return 2
    summary = {key: value for key, value in asdict(report).items() if key != "samples"}
    print(json.dumps(summary, indent=2))
    return 0 if report.played_s > 0 and not report.error else 1


if __name__ == "__main__":
    sys.exit(main())
