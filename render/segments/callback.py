"""``SegmentJoin``: the Hydra callback that joins a segmented video dream when its sweep ends.

Registered in the ``video_dream`` preset's ``hydra.callbacks`` (conf/video_dream.yaml), the one
preset whose renders are split into segments (render/segments/plan.py refuses a split elsewhere).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig
from rich.console import Console

from dream.errors import UserError
from render.segments.join import join_segments, segment_folders


class SegmentJoin(Callback):
    """When a multirun ends, joins the sweep's video dream segments into ``SWEEP_DIR/<output.name>.mp4``.

    Silent for sweeps without segments. While a segment is missing or unfinished it says which and how to
    complete it (then ``python -m render.join SWEEP_DIR`` joins them); the sweep's exit status is the summary's.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not segment_folders(sweep_dir):
            return
        console = Console(stderr=True)
        try:
            meta = join_segments(sweep_dir)
        except UserError as exc:
            console.print(f"[bold red]Segments not joined:[/bold red] {exc}", highlight=False, soft_wrap=True)
            return
        console.print(f"Joined {meta['segment_count']} segments into {sweep_dir / meta['media']} ({meta['frames']} "
                      f"frames, {meta['duration']} s)", highlight=False, soft_wrap=True)
