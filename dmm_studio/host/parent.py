"""The studio's end of the engine host: start it, send it commands, read
what it says (no Qt here; ``dmm_studio.gui.runner`` wraps it in signals).

This module holds ``HostEnd`` (the connection, a reader thread that hands
every message to ``on_message``, blocking snapshots for scripts) and its two
ways to start the host's ``serve`` (``child.py``): ``HostProcess``, a child
process (what the studio runs), and ``HostThread``, a thread of this process
over the same socket pair and the same pickled messages (the screenshot mode,
and tests that need one process). ``HostProcess.reuse`` keeps children that
were closed cleanly for the next ``HostProcess`` (the test suite sets it: a
child takes ~2 s to start).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from .protocol import dumps, loads


def _child_env() -> dict[str, str]:
    """This environment, with the folders this process imports dmm_studio (and
    its neuron packs) from first on PYTHONPATH: the child imports the same code
    even when the parent found it by a path of its own (a script, a notebook)."""
    import importlib.util

    roots: list[str] = []
    for name in ("dmm_studio", "dmm_studio_nodes"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            folder = os.path.dirname(spec.origin)
            root = os.path.dirname(folder)
            # a package installed under another folder name (nodes/ is installed as
            # dmm_studio_nodes) is found by its installer's hook, which the child has too
            if os.path.basename(folder) == name and root not in roots:
                roots.append(root)
    env = dict(os.environ)
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join(roots + ([old] if old else []))
    return env


class HostEnd:
    """The studio's end of a connection to ``serve`` (``child.py``).

    ``on_message(kind, payload)`` is called in a reader thread for every
    message (the studio queues them to its UI thread); ``("exited", code)``
    comes last, when the host ends. ``send(command, *args)`` from one thread at
    a time; ``request_snapshot(timeout)`` waits for the reply (for scripts).
    Subclasses start the host: ``HostProcess`` (a child process) and
    ``HostThread`` (a thread of this process).
    """

    def __init__(self, on_message: Callable[[str, Any], None] | None = None) -> None:
        self.on_message = on_message or _drop
        self._lock = threading.Lock()
        self._replies: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._seq = 0
        self._barrier: int | None = None  # drop messages until ("renewed", this token)
        self.closing = False

    def _connect(self, conn: Any, engine: str | None, engine_kwargs: dict[str, Any] | None) -> None:
        self.conn = conn
        self.send("init", engine, dict(engine_kwargs or {}))
        self.reader = threading.Thread(target=self._read, name="dmm-engine-reader", daemon=True)
        self.reader.start()

    def send(self, *command: Any) -> None:
        data = dumps(command)
        with self._lock:
            try:
                self.conn.send_bytes(data)
            except (OSError, BrokenPipeError, ValueError):
                if not self.closing:
                    raise RuntimeError("the engine process is not running") from None

    def _read(self) -> None:
        while True:
            try:
                data = self.conn.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                kind, payload = loads(data)
            except Exception as e:  # a message that cannot be read: said, not a dead reader
                self.on_message("failed", f"a message from the engine process is unreadable: {e}")
                continue
            if self._barrier is not None:  # a reused host: what it said to its last owner
                if kind == "renewed" and payload == self._barrier:
                    self._barrier = None
                continue
            if kind == "reply":
                token = payload[0]
                waiter = self._replies.pop(token, None)
                if waiter is not None:
                    waiter[1].append(payload)
                    waiter[0].set()
                    continue
            self.on_message(kind, payload)
        self.on_message("exited", self._exit_code())

    def _exit_code(self) -> int | None:
        return None

    def next_token(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def request_snapshot(self, timeout: float = 30.0) -> tuple[Any, int]:
        """The running state as ``(Network, t)`` (blocks; raises on failure)."""
        token = self.next_token()
        event: threading.Event = threading.Event()
        box: list[Any] = []
        self._replies[token] = (event, box)
        self.send("snapshot", token)
        if not event.wait(timeout):
            self._replies.pop(token, None)
            raise TimeoutError("the engine process did not answer")
        _, result, error = box[0]
        if error:
            raise RuntimeError(error)
        return result  # type: ignore[no-any-return]

    @property
    def alive(self) -> bool:
        return False

    def close(self, timeout: float = 3.0) -> None:
        """Ask the host to quit; wait for it."""
        self.closing = True
        with contextlib.suppress(RuntimeError):
            self.send("quit")
        self._wait(timeout)
        self.reader.join(2.0)
        self.conn.close()

    def _wait(self, timeout: float) -> None:
        raise NotImplementedError


def _drop(kind: str, payload: Any) -> None:
    """Where the messages of a host that nobody owns go."""


class HostProcess(HostEnd):
    """``serve`` in a child process, ``python -m dmm_studio.host`` over a socket
    pair (not ``multiprocessing``'s spawn, which imports the parent's main
    script again and so fails in scripts without a ``__main__`` guard)."""

    reuse = False  # closed children wait in ``_pool`` for the next ``start`` (tests)
    _pool: list[HostProcess] = []

    def __init__(
        self,
        engine: str | None = None,
        engine_kwargs: dict[str, Any] | None = None,
        on_message: Callable[[str, Any], None] | None = None,
    ) -> None:
        from multiprocessing.connection import Connection

        super().__init__(on_message)
        mine, theirs = socket.socketpair()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dmm_studio.host", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=_child_env(),
        )
        theirs.close()
        self._connect(Connection(mine.detach()), engine, engine_kwargs)

    @classmethod
    def start(
        cls,
        engine: str | None = None,
        engine_kwargs: dict[str, Any] | None = None,
        on_message: Callable[[str, Any], None] | None = None,
    ) -> HostProcess:
        """A child serving a fresh machine: one from the pool when ``reuse``
        (it starts afresh: a new ``Host``, nothing kept), else a new one."""
        while cls.reuse and cls._pool:
            host = cls._pool.pop()
            if not host.alive:
                host._close_now(0.5)
                continue
            host.closing = False
            host._barrier = token = host.next_token()
            host.on_message = on_message or _drop
            try:
                host.send("renew", token, engine, dict(engine_kwargs or {}))
            except RuntimeError:
                host._close_now(0.5)
                continue
            return host
        return cls(engine, engine_kwargs, on_message)

    def _exit_code(self) -> int | None:
        try:
            return self.proc.wait(2.0)
        except subprocess.TimeoutExpired:
            return None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, timeout: float = 3.0) -> None:
        """Ask the child to quit (end it if it does not); with ``reuse``, a
        healthy child goes back to the pool instead, its machine dropped."""
        if self.reuse and self.alive and not self.closing:
            self.on_message = _drop
            self._barrier = -1  # nothing it says is for anyone until the next start
            try:
                self.send("renew", self.next_token(), None, {})
            except RuntimeError:
                pass
            else:
                if not HostProcess._pool:
                    atexit.register(_close_pool)
                HostProcess._pool.append(self)
                return
        self._close_now(timeout)

    def _close_now(self, timeout: float) -> None:
        HostEnd.close(self, timeout)

    def _wait(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(2.0)


def _close_pool() -> None:
    while HostProcess._pool:
        HostProcess._pool.pop()._close_now(1.0)


class HostThread(HostEnd):
    """``serve`` in a thread of this process, over the same socket pair and the
    same pickled messages as ``HostProcess``: the screenshot mode (one process,
    no child to start) and tests that need one process."""

    def __init__(
        self,
        engine: str | None = None,
        engine_kwargs: dict[str, Any] | None = None,
        on_message: Callable[[str, Any], None] | None = None,
    ) -> None:
        from multiprocessing.connection import Connection

        # torch imported here, whole, before the host's thread runs: imported there,
        # the UI's code would meanwhile see a half-made module in sys.modules
        import torch  # noqa: F401

        from .child import serve_connection

        super().__init__(on_message)
        mine, theirs = socket.socketpair()
        self.thread = threading.Thread(
            target=serve_connection, args=(Connection(theirs.detach()),), name="dmm-engine", daemon=True
        )
        self.thread.start()
        self._connect(Connection(mine.detach()), engine, engine_kwargs)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def _wait(self, timeout: float) -> None:
        self.thread.join(timeout)
