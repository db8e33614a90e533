"""Which files a running network may read: files as data, never more.

A neuron that reads a file (``data.text_reader``'s ``path``) names it in a
param, and params come from the network file. A file from someone else could
name ``/home/you/.ssh/id_rsa`` or ``../../secret.txt`` and so copy it into
traces and snapshots. So paths are resolved against the network's folder
(the folder of the file it was loaded from; the current directory for a
network built in code) and a path that leads outside it, by an absolute
path, ``..`` or a symbolic link, is refused unless the user allowed it
(``dmm-studio run --allow-outside-files``; in the studio, after asking).

The rule in force is a context: ``Machine.step`` sets it around each step
(``file_access``), and neuron functions call ``resolve_data_path``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALLOW_HINT = "run with --allow-outside-files to allow it"


class FileAccessError(ValueError):
    """A data file's path leads outside the network's folder (not allowed)."""


@dataclass(frozen=True)
class FileAccess:
    """The rule a step reads files under: relative paths start at ``folder``;
    paths outside it are refused unless ``allow_outside``."""

    folder: Path
    allow_outside: bool = False


_current: ContextVar[FileAccess | None] = ContextVar("dmm_studio_file_access", default=None)


@contextmanager
def file_access(folder: str | os.PathLike[str], allow_outside: bool = False) -> Iterator[FileAccess]:
    """Read data files under this rule inside the ``with`` block."""
    rule = FileAccess(Path(folder), bool(allow_outside))
    token = _current.set(rule)
    try:
        yield rule
    finally:
        _current.reset(token)


def current_access() -> FileAccess:
    """The rule in force: the one set by ``file_access``, else the current
    directory with nothing outside allowed."""
    rule = _current.get()
    return rule if rule is not None else FileAccess(Path.cwd())


def outside(path: str, rule: FileAccess) -> Path | None:
    """The real path of ``path`` when it leads outside ``rule.folder``, else None."""
    base = Path(os.path.realpath(rule.folder))
    real = Path(os.path.realpath(base / os.path.expanduser(path)))
    return None if real == base or base in real.parents else real


def resolve_data_path(path: str) -> Path:
    """The file a neuron's ``path`` param names, under the rule in force.

    Returns an absolute path. Raises ``FileAccessError`` (one line naming the
    path and the folder) when it leads outside the network's folder and that
    is not allowed.
    """
    rule = current_access()
    real = outside(path, rule)
    if real is not None and not rule.allow_outside:
        raise FileAccessError(
            f"the data file {path!r} is outside the network's folder {rule.folder} ({ALLOW_HINT})"
        )
    return Path(os.path.realpath(Path(rule.folder) / os.path.expanduser(path)))


# the params that name files to read, by neuron type (what the studio asks about)
PATH_PARAMS: dict[str, tuple[str, ...]] = {"data.text_reader": ("path",)}


def outside_paths(
    params: Mapping[str, Mapping[str, Mapping[str, Any]]], folder: str | os.PathLike[str]
) -> list[tuple[str, str, str, str]]:
    """Every data path in ``params`` that leads outside ``folder``, as
    ``(type, name, param, path)``: what the studio asks the user about before
    a run (then it sets ``network.allow_outside_files = True`` before handing
    the network to the runner, or makes the machine with
    ``allow_outside_files=True``)."""
    rule = FileAccess(Path(folder))
    found = []
    for f, keys in PATH_PARAMS.items():
        for n, p in params.get(f, {}).items():
            for k in keys:
                v = p.get(k)
                if isinstance(v, str) and v and outside(v, rule) is not None:
                    found.append((f, n, k, v))
    return found
