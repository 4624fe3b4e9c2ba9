"""Two small bounds for long-running processes (the demo server): a least-recently-used cache
and a pixel budget shared by concurrent requests."""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from typing import Callable, Generic, Hashable, Iterator, TypeVar

T = TypeVar("T")


class LRUCache(Generic[T]):
    """At most ``maxsize`` values; adding one more drops the least recently used.

    >>> cache = LRUCache(2)
    >>> cache.get("a", lambda: 1), cache.get("b", lambda: 2), cache.get("c", lambda: 3)
    (1, 2, 3)
    >>> list(cache)
    ['b', 'c']
    """

    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self._items: collections.OrderedDict[Hashable, T] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value for ``key``, made by ``make()`` (outside the lock) when it is not held."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            value = self._items.setdefault(key, value)  # another thread may have made it too
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def __iter__(self) -> Iterator[Hashable]:
        with self._lock:
            return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)


class PixelBudget:
    """Pixels that requests being processed together may hold; a request waits (up to
    ``wait_s``) until its pixels fit, and one larger than the whole budget is refused.

    >>> budget = PixelBudget(80_000_000)
    >>> with budget.hold(40_000_000):
    ...     budget.in_use
    40000000
    """

    def __init__(self, total_pixels: int, wait_s: float = 600.0):
        if total_pixels < 1:
            raise ValueError(f"total_pixels must be positive, got {total_pixels}")
        self.total = int(total_pixels)
        self.wait_s = wait_s
        self.in_use = 0
        self._free = threading.Condition()

    @contextlib.contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        """Hold ``pixels`` of the budget for the ``with`` block.

        Raises ValueError for more pixels than the whole budget and TimeoutError when they do
        not fit within ``wait_s`` seconds.
        """
        pixels = int(pixels)
        if pixels > self.total:
            raise ValueError(f"{pixels:,} pixels is more than this server's budget of "
                             f"{self.total:,}")
        deadline = time.monotonic() + self.wait_s
        with self._free:
            while self.in_use + pixels > self.total:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the server is busy with {self.in_use:,} pixels; try "
                                       "again later")
                self._free.wait(left)
            self.in_use += pixels
        try:
            yield
        finally:
            with self._free:
                self.in_use -= pixels
                self._free.notify_all()
