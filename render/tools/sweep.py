"""A concise summary at the end of a Hydra multirun (``python -m render -m ... seed=1,2,3``).

``SweepSummary`` is a Hydra callback, registered in ``conf/settings/default.yaml``.
It remembers each job's run folder and overrides as the job ends, and when the sweep
ends prints one table row per run, read from the run's ``meta.json``. A sweep with a
failed run then exits with status 1, so scripts notice. A single (non ``-m``) render
never reaches ``on_multirun_end``, so it prints nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig
from rich.console import Console
from rich.table import Table


class SweepSummary(Callback):
    """Prints a table of the sweep's runs: folder, overrides, model, frames, elapsed, finished/failed."""

    def __init__(self) -> None:
        self.jobs: list[dict] = []

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        self.jobs.append(
            {
                "run_dir": Path(config.hydra.runtime.output_dir),
                "overrides": list(job_return.overrides or []),
                "completed": job_return.status == JobStatus.COMPLETED,
            }
        )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        console = Console(stderr=True)
        if not self.jobs:  # launchers that run jobs in other processes call on_job_end there, not here
            self.jobs = jobs_on_disk(Path(config.hydra.sweep.dir))
        console.print(summary_table(self.jobs))
        finished = sum(run_row(job)[-1] == "finished" for job in self.jobs)
        sweep_dir = config.hydra.sweep.dir
        console.print(
            f"{finished} of {len(self.jobs)} runs finished in {sweep_dir} -- "
            f"gallery page: make gallery ARGS={sweep_dir}",
            highlight=False,
            soft_wrap=True,
        )
        if finished < len(self.jobs):
            sys.exit(1)


def jobs_on_disk(sweep_dir: Path) -> list[dict]:
    """The sweep's jobs as their run folders show them (a job that never wrote meta.json counts as failed)."""
    folders = sorted({meta.parent for meta in sweep_dir.glob("*/**/meta.json")})
    return [{"run_dir": folder, "overrides": [str(folder.relative_to(sweep_dir))], "completed": True}
            for folder in folders]


def run_row(job: dict) -> list[str]:
    """One table row for a job: folder, overrides, model, frames, elapsed, finished/failed."""
    meta_file = job["run_dir"] / "meta.json"
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    model = str(meta.get("model", "?")) + (" (fallback)" if meta.get("fallback") else "")
    elapsed = meta.get("elapsed_seconds")
    done = job["completed"] and meta.get("finished") is True
    return [
        job["run_dir"].name,
        " ".join(job["overrides"]),
        model,
        str(meta.get("frames", "?")),
        f"{elapsed:.1f} s" if elapsed is not None else "?",
        "finished" if done else "failed",
    ]


def summary_table(jobs: list[dict]) -> Table:
    """The sweep's runs as a rich table, failed runs in red."""
    table = Table(title=f"Sweep: {len(jobs)} runs", title_justify="left")
    table.add_column("run folder", overflow="fold")
    table.add_column("overrides", overflow="fold")
    table.add_column("model", no_wrap=True)
    for column in ("frames", "elapsed"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for job in jobs:
        row = run_row(job)
        table.add_row(*row, style=None if row[-1] == "finished" else "red")
    return table
