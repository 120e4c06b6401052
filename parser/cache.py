"""A small bounded LRU map: the parser's caches never grow with the image's counts."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """At most `capacity` entries; the least recently used one goes first."""

    __slots__ = ("_capacity", "_data")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        data = self._data
        if key in data:
            data.move_to_end(key)
        data[key] = value  # a new key goes to the end already
        if len(data) > self._capacity:
            data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
