"""The video loop's two helper threads, so that decoding and PNG writing never sit on the optimisation's path.

``Decoder`` reads frames ahead into a bounded queue (memory stays flat: ``AHEAD`` frames at most); ``Writer``
stores finished frames in the work directory in order, each as today (log line, then the PNG, atomically),
so a killed run resumes exactly. Errors of either thread are raised in the caller's thread, as the same
exception; leaving either context (an error, Ctrl-C) stops the decoder and lets the writer finish what it was
given, so every frame the loop reported is on disk.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator

import numpy as np

from .workdir import WorkDir

AHEAD = 4  # decoded frames waiting for the optimiser
BEHIND = 2  # finished frames waiting for the writer
_END = object()


class Decoder:
    """Iterate ``stream()`` in a thread, ``AHEAD`` frames ahead of the consumer."""

    def __init__(self, stream: Callable[[], Iterator[np.ndarray]], ahead: int = AHEAD) -> None:
        self._stream = stream
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vidstyle-decode", daemon=True)

    def __enter__(self) -> "Decoder":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        frames = None
        try:
            frames = self._stream()
            for frame in frames:
                if not self._put(frame):
                    return
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer's thread
            self._put(exc)
        finally:
            close = getattr(frames, "close", None)  # None too when the stream could not be opened
            if close is not None:
                close()  # the decoder's process or capture, in the thread that used it

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item


class Writer:
    """Save finished frames to ``work`` in a thread, in the order given."""

    def __init__(self, work: WorkDir, behind: int = BEHIND) -> None:
        self._work = work
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=behind)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="vidstyle-write", daemon=True)

    def __enter__(self) -> "Writer":
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(raise_error=kind is None)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if self._error is None:
                try:
                    self._work.save(*item)
                except BaseException as exc:  # noqa: BLE001 - raised in the loop's thread
                    self._error = exc

    def submit(self, index: int, image: np.ndarray, record: dict[str, Any]) -> None:
        """Queue frame ``index`` (waits while ``BEHIND`` frames are queued); raises the writer's error."""
        self._raise()
        self._queue.put((index, image, record))

    def close(self, raise_error: bool = True) -> None:
        """Wait until every queued frame is saved; raise the writer's error (if ``raise_error``)."""
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()
        if raise_error:
            self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
