"""The page a screen opens: the live HLS playlist in a <video>, the low-latency MJPEG view, a status line, the panel.

Chromium, Safari and Edge play HLS in a <video> element natively; the page needs no player
script. The MJPEG view beside it (an <img> of ``/mjpeg``) shows each frame as it leaves, seconds
before HLS does. The status line reads ``status.json`` (cadence, falling behind, ended) every few
seconds. The control panel lists every animated key with its value now and the spec in force
(``GET /control`` each second); a value typed there (a number or a schedule) is sent with
``POST /control`` and applies at the next frame, or the refusal is shown. A page opened as
``/?token=TOKEN`` sends the token with its control requests. A page opened before the first
segment exists keeps trying until the stream is there.
"""

from __future__ import annotations

import html
from pathlib import Path

from render.live.server import CONTROL_PATH, MJPEG_PATH, PAGE
from render.live.stream import PLAYLIST, STATUS

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  html, body {{ margin: 0; background: #000; color: #bbb; font: 14px sans-serif; }}
  #views {{ display: flex; gap: 4px; height: calc(100vh - 1.6em); }}
  video, #now {{ display: block; flex: 1; min-width: 0; height: 100%; object-fit: contain; background: #000; }}
  #status {{ height: 1.6em; line-height: 1.6em; padding: 0 0.5em; white-space: nowrap; overflow: hidden; }}
  #panel {{ padding: 0.5em; }}
  #panel td {{ padding: 1px 6px; }}
  #panel input {{ width: 16em; background: #111; color: #ddd; border: 1px solid #444; }}
  #control-error {{ color: #f88; white-space: pre-wrap; }}
</style>
</head>
<body>
<div id="views">
<video id="dream" src="{playlist}" autoplay muted playsinline controls></video>
<img id="now" src="{mjpeg}" alt="the latest frame (low latency)">
</div>
<div id="status">{title}: connecting…</div>
<details id="panel" open><summary>Control (applies at the next frame)</summary>
<table id="keys"><tr><th>key</th><th>now</th><th>value or schedule</th></tr></table>
<div id="control-error"></div>
</details>
<script>
const video = document.getElementById("dream");
const status = document.getElementById("status");
const token = new URLSearchParams(location.search).get("token");
const auth = token ? {{"Authorization": "Bearer " + token}} : {{}};
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

const rows = {{}};
async function send(key, text) {{
  const value = text.trim() !== "" && !isNaN(Number(text)) ? Number(text) : text;
  const reply = await fetch("{control}", {{method: "POST", headers: {{...auth, "Content-Type": "application/json"}},
                                          body: JSON.stringify({{[key]: value}})}});
  document.getElementById("control-error").textContent = reply.ok ? "" : (await reply.json()).error;
}}
function row(key) {{
  const tr = document.getElementById("keys").insertRow();
  tr.insertCell().textContent = key;
  const now = tr.insertCell();
  const input = document.createElement("input");
  input.name = key;
  input.addEventListener("change", () => send(key, input.value));
  tr.insertCell().appendChild(input);
  return rows[key] = {{now, input}};
}}
async function readControl() {{
  try {{
    const reply = await fetch("{control}", {{cache: "no-store", headers: auth}});
    if (!reply.ok) {{ document.getElementById("panel").hidden = reply.status !== 401; return; }}
    const state = await reply.json();
    for (const [key, value] of Object.entries(state.values)) {{
      const r = rows[key] || row(key);
      r.now.textContent = Number(value).toPrecision(5);
      if (document.activeElement !== r.input) r.input.value = state.specs[key] ?? "";
    }}
  }} catch (err) {{ /* the render has stopped */ }}
}}
readControl();
setInterval(readControl, 1000);
</script>
</body>
</html>
"""


def write_page(folder: Path, title: str) -> Path:
    """Write the live page into ``folder`` (served as ``/``); returns its path."""
    page = TEMPLATE.format(title=html.escape(title), playlist=PLAYLIST, status_file=STATUS, mjpeg=MJPEG_PATH[1:],
                           control=CONTROL_PATH[1:])
    path = Path(folder) / PAGE
    path.write_text(page)
    return path
