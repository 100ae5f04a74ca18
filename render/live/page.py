"""The page a screen opens: one <video> playing the live HLS playlist, and a status line under it.

Chromium, Safari and Edge play HLS in a <video> element natively; the page needs no player
script. The status line reads ``status.json`` (cadence, falling behind, ended) every few seconds.
A page opened before the first segment exists keeps trying until the stream is there.
"""

from __future__ import annotations

import html
from pathlib import Path

from render.live.server import PAGE
from render.live.stream import PLAYLIST, STATUS

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  html, body {{ margin: 0; height: 100%; background: #000; color: #bbb; font: 14px sans-serif; }}
  video {{ display: block; width: 100vw; height: calc(100vh - 1.6em); object-fit: contain; background: #000; }}
  #status {{ height: 1.6em; line-height: 1.6em; padding: 0 0.5em; white-space: nowrap; overflow: hidden; }}
</style>
</head>
<body>
<video id="dream" src="{playlist}" autoplay muted playsinline controls></video>
<div id="status">{title}: connecting…</div>
<script>
const video = document.getElementById("dream");
const status = document.getElementById("status");
let ended = false;
video.addEventListener("ended", () => {{ ended = true; status.textContent = "The stream has ended."; }});
video.addEventListener("error", () => {{
  if (!video.canPlayType("application/vnd.apple.mpegurl")) {{
    status.textContent = "This browser can't play HLS; open the page in Chromium, Chrome, Edge or Safari.";
    return;
  }}
  // the first segment isn't written yet (the first dream takes longest), or the render was restarted: try again
  status.textContent = "Waiting for the stream…";
  setTimeout(() => {{ video.src = "{playlist}?retry=" + Date.now(); video.play().catch(() => {{}}); }}, 2000);
}});
async function refresh() {{
  if (ended) return;
  try {{
    const reply = await fetch("{status_file}", {{cache: "no-store"}});
    if (reply.ok) status.textContent = (await reply.json()).message;
  }} catch (err) {{ /* the render is between segments or has stopped; keep the last line */ }}
}}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
"""


def write_page(folder: Path, title: str) -> Path:
    """Write the live page into ``folder`` (served as ``/``); returns its path."""
    page = TEMPLATE.format(title=html.escape(title), playlist=PLAYLIST, status_file=STATUS)
    path = Path(folder) / PAGE
    path.write_text(page)
    return path
