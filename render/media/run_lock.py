"""One render at a time in a run folder: an advisory lock held for the whole render.

Two renders started into the same folder (the same ``hydra.run.dir``, a job started twice)
would interleave their chunks and configs. The second one is refused before it writes anything.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dream.errors import UserError

LOCK_FILE = ".render.lock"


@contextmanager
def locked_run_dir(run_dir: Path) -> Iterator[Path]:
    """Hold ``run_dir``'s lock while the block runs; a clear ``UserError`` when another render holds it."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    lock_path = run_dir / LOCK_FILE
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise UserError(
                f"Another render ({holder}) is writing into {run_dir} right now, so this one was refused and "
                f"changed nothing there. Wait for it to finish, or render into a new folder (leave out "
                f"hydra.run.dir, or pick another: hydra.run.dir=PATH)."
            ) from None
        handle.truncate(0)
        handle.write(f"process {os.getpid()}")
        handle.flush()
        try:
            yield run_dir
        finally:
            lock_path.unlink(missing_ok=True)
