"""``python -m render.tools.gallery [PATH ...] [--out index.html]``: a static gallery page of finished renders.

PATH is a run folder, a sweep folder or any folder above run folders (default: ``outputs/``);
the page is written as ``index.html`` in that folder (the folder several PATHs share) unless ``--out`` names it;
run folders (a ``meta.json`` with ``finished: true``) are found recursively. The page is one
self-contained HTML file with inline CSS and relative links: it works opened from disk, with
no server and nothing fetched from elsewhere. Each run shows as a muted, looping, autoplaying
video with its poster (WebM first for browsers without H.264, then mp4), or as its still
image, captioned with the preset, model, objective and key settings from ``meta.json``, a
link to its resolved config and the command that renders it again.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shlex
import sys
from pathlib import Path
from urllib.parse import quote

from dream.errors import UserError
from render.media.run_folder import CONFIG_FILE, PREVIEW

DEFAULT_ROOT = Path("outputs")
VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm"}

STYLE = """
body { margin: 0; padding: 1.5rem; background: #111; color: #ddd; font: 14px/1.4 system-ui, sans-serif; }
h1 { font-weight: 500; margin: 0 0 1rem; }
main { display: grid; gap: 1.25rem; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); }
figure { margin: 0; background: #1c1c1c; border-radius: 6px; overflow: hidden; }
video, img { display: block; width: 100%; height: auto; background: #000; }
figcaption { padding: 0.6rem 0.8rem 0.8rem; }
.title { font-weight: 600; color: #fff; }
.badge { background: #a33; color: #fff; border-radius: 3px; padding: 0 0.35rem; font-size: 12px; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 0.1rem 0.8rem; margin: 0.4rem 0; }
dt { color: #888; } dd { margin: 0; overflow-wrap: anywhere; }
a { color: #8cf; }
code { display: block; margin-top: 0.4rem; padding: 0.3rem 0.4rem; background: #000; color: #bdb;
       font-size: 12px; overflow-wrap: anywhere; user-select: all; }
"""


def find_runs(paths: list[Path]) -> list[Path]:
    """Finished run folders at or below ``paths``, each once, sorted by path.

    Raises:
        UserError: a path does not exist, or no finished run is found.
    """
    found = set()
    for path in paths:
        if not path.exists():
            raise UserError(f"{path} does not exist. Pass run folders, sweep folders or outputs/.")
        found.update(meta.parent.resolve() for meta in path.rglob("meta.json") if is_finished(meta))
    if not found:
        where = ", ".join(str(p) for p in paths)
        raise UserError(
            f"No finished run folder (one with meta.json saying finished: true) under {where}. Render one first, "
            f"e.g. make render conf=smoke ARGS=output.webm=true, or pass the folder that holds your runs."
        )
    return sorted(found)


def is_finished(meta_file: Path) -> bool:
    """True when ``meta_file`` is readable JSON that says the render finished."""
    try:
        return json.loads(meta_file.read_text()).get("finished") is True
    except (OSError, ValueError, AttributeError):
        return False


def link(target: Path, page_dir: Path) -> str:
    """``target`` as a URL relative to the page, escaped for an HTML attribute (works from file://)."""
    relative = Path(os.path.relpath(target, page_dir)).as_posix()
    return html.escape(quote(relative), quote=True)


def media_names(meta: dict) -> list[str]:
    """``meta.json``'s ``media``: one file name, or a list of them (a class visualisation's stills)."""
    media = meta.get("media") or []
    return [media] if isinstance(media, str) else [str(name) for name in media]


def media_html(run_dir: Path, meta: dict, page_dir: Path) -> str:
    """The run's ``<video>`` (WebM then mp4 sources, poster) or ``<img>`` for a still (the first of several)."""
    media = run_dir / (media_names(meta) or [PREVIEW])[0]
    alt = html.escape(f"{meta.get('preset', '')} {media.name}", quote=True)
    if media.suffix not in VIDEO_TYPES:
        return f'<img src="{link(media, page_dir)}" alt="{alt}" loading="lazy">'
    poster = run_dir / meta["poster"] if meta.get("poster") else run_dir / PREVIEW
    poster_attr = f' poster="{link(poster, page_dir)}"' if poster.is_file() else ""
    sources = [run_dir / meta["webm"]] if meta.get("webm") else []
    sources.append(media)
    source_tags = "".join(
        f'<source src="{link(s, page_dir)}" type="{VIDEO_TYPES[s.suffix]}">' for s in sources if s.is_file()
    )
    return f'<video muted loop autoplay playsinline preload="auto"{poster_attr} title="{alt}">{source_tags}</video>'


def facts(meta: dict) -> list[tuple[str, str]]:
    """(label, value) pairs for the caption, only those the run recorded."""
    objective = meta.get("objective")
    rows = [
        ("objective", ", ".join(objective) if isinstance(objective, list) else objective),
        ("target", meta.get("label") or meta.get("target")),
        ("frames", meta.get("frames")),
        ("fps", meta.get("fps")),
        ("size", f"{meta['width']}x{meta['height']}" if meta.get("width") and meta.get("height") else None),
        ("seed", meta.get("seed")),
        ("loop", f"{meta['loop_frames']} crossfaded frames" if meta.get("loop_frames") else None),
        ("input", meta.get("input")),
        ("elapsed", f"{meta['elapsed_seconds']:.1f} s" if meta.get("elapsed_seconds") is not None else None),
        ("device", meta.get("device")),
    ]
    return [(label, str(value)) for label, value in rows if value not in (None, "")]


def caption_html(run_dir: Path, meta: dict, page_dir: Path) -> str:
    """Preset, model (with a badge when a fallback stood in), facts, files, config link and the re-render command."""
    esc = html.escape
    badge = ""
    if meta.get("fallback"):
        badge = f' <span class="badge">fallback for {esc(str(meta.get("requested_model", "?")))}</span>'
    title = f'<div class="title">{esc(str(meta.get("preset", "?")))} &middot; {esc(str(meta.get("mode", "")))}</div>'
    model = f"<div>{esc(str(meta.get('model', '?')))}{badge}</div>"
    rows = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>" for label, value in facts(meta))
    files = [run_dir / name for name in media_names(meta)]
    files += [run_dir / meta[key] for key in ("webm", "gif") if meta.get(key)]
    files.append(run_dir / CONFIG_FILE)
    links = " &middot; ".join(f'<a href="{link(f, page_dir)}">{esc(f.name)}</a>' for f in files if f.is_file())
    folder = f'<div><a href="{link(run_dir, page_dir)}">{esc(run_dir.name)}</a></div>'
    command = f"<code>{esc(rerender_command(run_dir))}</code>"
    return f"<figcaption>{title}{model}<dl>{rows}</dl>{folder}<div>{links}</div>{command}</figcaption>"


def rerender_command(run_dir: Path) -> str:
    """The shell command that renders the run again from its resolved config (absolute: copied from the page)."""
    config_path = shlex.quote(str(run_dir / CONFIG_FILE.parent))
    return f".venv/bin/python -m render --config-path {config_path} --config-name config"


def item_html(run_dir: Path, page_dir: Path) -> str:
    """One run as a ``<figure>``: its media and caption."""
    meta = json.loads((run_dir / "meta.json").read_text())
    return f"<figure>{media_html(run_dir, meta, page_dir)}{caption_html(run_dir, meta, page_dir)}</figure>"


def page_html(run_dirs: list[Path], page_dir: Path) -> str:
    """The whole page: inline CSS, a heading and one figure per run."""
    items = "\n".join(item_html(run_dir, page_dir) for run_dir in run_dirs)
    title = f"DeepDream gallery: {len(run_dirs)} run{'s' if len(run_dirs) != 1 else ''}"
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<h1>{title}</h1>\n<main>\n{items}\n</main>\n</body>\n</html>\n"
    )


def build_gallery(paths: list[Path], out: Path) -> tuple[Path, int]:
    """Write the gallery page of the finished runs under ``paths`` to ``out``; returns (out, number of runs)."""
    run_dirs = find_runs([Path(p) for p in paths])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(page_html(run_dirs, out.parent.resolve()), encoding="utf-8")
    os.replace(partial, out)
    return out, len(run_dirs)


def default_page(paths: list[Path]) -> Path:
    """``index.html`` beside the runs it shows: in the folder given, or the folder the given ones share."""
    folders = [Path(p) if Path(p).is_dir() else Path(p).parent for p in paths]
    return Path(os.path.commonpath([f.absolute() for f in folders])) / "index.html"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.gallery", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="run folders, sweep folders or outputs/ (default)")
    parser.add_argument("--out", type=Path, help="the page to write (default: index.html in the folder shown)")
    args = parser.parse_args(argv)
    paths = args.paths or [DEFAULT_ROOT]
    try:
        out, count = build_gallery(paths, args.out or default_page(paths))
    except UserError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"Wrote {out} ({count} run{'s' if count != 1 else ''}): open file://{out.resolve()}")


if __name__ == "__main__":
    main()
