"""The Makefile: settings go in ARGS; a variable it doesn't know is refused before anything runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)


def test_a_setting_outside_args_is_refused_showing_the_args_form():
    result = make("render", "conf=zoom_places", "frames=60")
    assert result.returncode != 0
    assert "'frames=60' is not a variable" in result.stdout
    assert 'make render conf=zoom_places ARGS="frames=60"' in result.stdout
    assert "-m render" not in result.stdout  # nothing was run, not even printed


def test_several_unknown_variables_join_the_args_already_given():
    result = make("live", "width=320", "height=180", 'ARGS=seed=7')
    assert result.returncode != 0 and "are not variables" in result.stdout
    assert 'make live ARGS="seed=7 ' in result.stdout and "width=320" in result.stdout


def test_the_known_variables_pass():
    result = make("render", "conf=smoke", "ARGS=frames=2", "N=3", "LAUNCHER=joblib", "PYTHON=python3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "-m render --config-name smoke frames=2" in result.stdout
