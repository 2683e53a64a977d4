"""Where the reports' built-in demo workspace is cached: a folder private to the user.

A fixed name in the shared temporary folder (``/tmp/kam-demo-...``) can be created first by
another local user, who would then control the workspace every demo report reads. The cache
lives in the user's own cache folder instead, created readable and writable by the user alone;
a folder owned by someone else, or one that others may write to, is refused.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from ..errors import UnsafeFolder

__all__ = ["demo_cache_dir"]

_PRIVATE = 0o700


def _default() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "kam"


def demo_cache_dir(create: bool = True) -> Path:
    """The folder the demo workspace is cached in: ``$KAM_DEMO_CACHE`` if set, else
    ``$XDG_CACHE_HOME/kam``, else ``~/.cache/kam``.

    With ``create`` (default) the folder is made if missing (mode ``0o700``) and checked: it
    must be a folder owned by the user that no one else may write to, else
    :class:`~kam.errors.UnsafeFolder` says why and what to do. A default folder of the user's
    that others may write to is made private (``chmod 700``). Without ``create`` the path is
    only computed (nothing is made, nothing is checked).

    Examples
    --------
    >>> import os, stat, tempfile
    >>> os.environ["KAM_DEMO_CACHE"] = tempfile.mkdtemp() + "/cache"
    >>> folder = demo_cache_dir()
    >>> oct(stat.S_IMODE(folder.stat().st_mode))
    '0o700'
    >>> del os.environ["KAM_DEMO_CACHE"]
    """
    explicit = os.environ.get("KAM_DEMO_CACHE")
    folder = Path(explicit).expanduser() if explicit else _default()
    if not create:
        return folder
    if not folder.exists() and not folder.is_symlink():
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # made in the meantime: checked below
            folder.mkdir(mode=_PRIVATE)
    _check(folder, fix=not explicit)
    return folder


def _check(folder: Path, *, fix: bool) -> None:
    """Refuse a cache folder that is not a folder, is someone else's, or others may write to."""
    if not hasattr(os, "getuid"):  # no POSIX owners (Windows): the profile folder is private
        return
    uid = os.getuid()
    link = os.lstat(folder)
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        raise UnsafeFolder(f"The demo cache {folder} is a link to nothing; remove it, or set "
                           "KAM_DEMO_CACHE to a folder of your own") from None
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFolder(f"The demo cache {folder} is not a folder; remove it, or set "
                           "KAM_DEMO_CACHE to a folder of your own")
    for what in (link, info):
        if what.st_uid != uid:
            raise UnsafeFolder(
                f"The demo cache {folder} belongs to another user (uid {what.st_uid}, you are "
                f"uid {uid}): its demo workspace could have been written by them. Remove it, or "
                "set KAM_DEMO_CACHE to a folder of your own")
    if stat.S_IMODE(info.st_mode) & 0o022:
        if fix:
            os.chmod(folder, _PRIVATE)
            return
        raise UnsafeFolder(
            f"The demo cache {folder} may be written by other users (mode "
            f"{oct(stat.S_IMODE(info.st_mode))}): make it private with 'chmod 700 {folder}', or "
            "set KAM_DEMO_CACHE to a folder of your own")
