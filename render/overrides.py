"""The command line's ``key=value`` overrides: quoted as Hydra needs, checked with clear errors.

Shells strip quotes: ``make render ARGS="motion.zoom='0:(1.04), 120:(1.0)'"`` reaches the
renderer as ``motion.zoom=0:(1.04), 120:(1.0)``, which Hydra's grammar refuses. A value
Hydra can't read is therefore quoted again here (a value it can read is left alone, so
sweeps such as ``seed=1,2,3`` keep working). The preset is then composed once before
Hydra runs, so a typo, an unknown model or a value of the wrong type is one paragraph
naming the closest valid names instead of Hydra's own message.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException, HydraException, MissingConfigException
from omegaconf import OmegaConf

from dream.errors import NameChoiceError, UserError
from render.config import RenderConfig, choice_error

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
QUOTING_HINT = (
    "Quote a value with spaces, brackets, commas or non-ASCII letters for Hydra, inside the shell's quotes: "
    "python -m render \"input='photo (1).jpg'\", or make render ARGS=\"input='photo (1).jpg'\"."
)


def is_override(arg: str) -> bool:
    return "=" in arg and not arg.startswith("-")


def quote_for_hydra(arg: str, parser: OverridesParser | None = None, multirun: bool = False) -> str:
    """``arg`` as given when Hydra can read it, else with its value quoted (``key='value'``).

    Outside a multirun (-m) a comma-separated value is a path or a schedule that lost its quotes, not a sweep.
    """
    parser = parser or OverridesParser.create()
    if not is_override(arg) or _reads(parser, arg, multirun):
        return arg
    key, value = arg.split("=", 1)
    for quote in ("'", '"'):
        if quote not in value:
            return f"{key}={quote}{value}{quote}"
    return key + "='" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_all(args: list[str], multirun: bool = False) -> list[str]:
    parser = OverridesParser.create()
    return [quote_for_hydra(arg, parser, multirun) for arg in args]


def _reads(parser: OverridesParser, arg: str, multirun: bool) -> bool:
    try:
        return multirun or not parser.parse_override(arg).is_sweep_override()
    except HydraException:
        return False


def setting_names() -> list[str]:
    """Every dotted key of the schema, e.g. ``dream.iterations``."""
    def walk(node, prefix: str) -> list[str]:
        names = []
        for key in node:
            name = f"{prefix}{key}"
            child = node._get_node(key)
            names += walk(child, name + ".") if OmegaConf.is_dict(child) else [name]
        return names

    return walk(OmegaConf.structured(RenderConfig), "")


def check_composes(compose, preset: str, args: list[str]) -> None:
    """Compose ``preset`` with the overrides in ``args`` once; Hydra's errors become one ``UserError``.

    Args:
        compose: ``(preset, overrides) -> DictConfig``, the CLI's own composition.
        args: command-line arguments after quoting; sweeps (``seed=1,2``) are left to Hydra's launcher.
    """
    parser = OverridesParser.create()
    overrides = [arg for arg in args if is_override(arg)]
    try:
        parsed = parser.parse_overrides(overrides)
        check_additions(parsed)
        compose(preset, [o.input_line for o in parsed if not o.is_sweep_override()])
    except MissingConfigException as exc:
        raise unknown_option(str(exc)) from None
    except ConfigCompositionException as exc:
        raise composition_error(exc) from None
    except (HydraException, ValueError) as exc:  # the override grammar
        raise UserError(f"Could not read the setting {_bad_line(str(exc), overrides)}. {QUOTING_HINT}") from None


def check_additions(parsed: list) -> None:
    """``+key=value`` adds a key Hydra's schema lacks: the renderer would ignore it, so it is refused."""
    for override in parsed:
        key = override.key_or_group
        if not (override.is_add() or override.is_force_add()) or key.startswith("hydra"):
            continue
        if key not in setting_names():
            raise unknown_setting(key)
        if override.is_add():
            raise UserError(f"'{key}' is a setting already: write {key}=... without the '+'.")


def _bad_line(message: str, overrides: list[str]) -> str:
    for line in message.splitlines():
        if line.strip() in overrides:
            return f"'{line.strip()}'"
    return f"({message.splitlines()[0]})"


def unknown_option(message: str) -> UserError:
    """``model=efficientnet_lite9``: the group's valid options, closest first."""
    found = re.search(r"Could not find '([^'/]+)/([^']+)'", message)
    if not found:
        return UserError(message.splitlines()[0])
    group, name = found.groups()
    choices = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
    hint = "List them with: .venv/bin/python -m render.tools.list models" if group == "model" else ""
    return NameChoiceError(group if group == "model" else f"{group} option", name, choices, hint)


def composition_error(exc: ConfigCompositionException) -> UserError:
    """A key the schema does not have (closest names), a closed choice's bad value (the choices), or a value of the
    wrong type (the expected type)."""
    message = str(exc)
    named = re.search(r"override '([^']+)'", message) or re.search(r"override (\S+)", message)
    key, _, value = (named.group(1) if named else "").partition("=")
    key = key.lstrip("+~")
    if "Could not override" in message or "Could not append" in message or key not in setting_names():
        return unknown_setting(key)
    if (bad_choice := choice_error(key, value)) is not None:
        return bad_choice
    schema = OmegaConf.structured(RenderConfig)
    cause = (str(exc.__cause__) if exc.__cause__ else message).splitlines()[0].rstrip(".")
    return UserError(f"Setting '{key}' can't be '{value}': {cause}. Its default is "
                     f"{key}={OmegaConf.select(schema, key)}.")


def unknown_setting(key: str) -> UserError:
    names = setting_names()
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
    section = key.rsplit(".", 1)[0] + "." if "." in key else ""
    siblings = [n for n in names if n.startswith(section) and "." not in n[len(section):]]
    text = f"Unknown setting '{key}'."
    if close:
        text += f" Did you mean {' or '.join(close)}?"
    return UserError(text + f" Settings{' of ' + section[:-1] if section else ''}: {', '.join(siblings)}. "
                     "The full schema is render/config.py.")


def output_folder(args: list[str]) -> Path:
    """The folder the render will write under: ``hydra.run.dir`` (``hydra.sweep.dir`` with -m), else outputs/."""
    key = "hydra.sweep.dir=" if {"-m", "--multirun"} & set(args) else "hydra.run.dir="
    given = [arg[len(key):] for arg in args if arg.startswith(key)]
    folder = given[-1].strip("'\"").split("$", 1)[0] if given else "outputs"
    return Path(folder or ".").expanduser()
