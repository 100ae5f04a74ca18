import pytest

from dream.errors import UserError
from render.media.run_lock import LOCK_FILE, locked_run_dir


def test_a_second_render_into_a_locked_folder_is_refused(tmp_path):
    with locked_run_dir(tmp_path / "run") as run_dir:
        (run_dir / "meta.json").write_text("{}")
        with pytest.raises(UserError, match="Another render .* is writing into") as error:
            with locked_run_dir(run_dir):
                pass
        assert "changed nothing" in str(error.value)
        assert (run_dir / "meta.json").read_text() == "{}"


def test_the_lock_is_released_and_its_file_removed(tmp_path):
    with locked_run_dir(tmp_path):
        assert (tmp_path / LOCK_FILE).exists()
    assert not (tmp_path / LOCK_FILE).exists()
    with locked_run_dir(tmp_path):
        pass
