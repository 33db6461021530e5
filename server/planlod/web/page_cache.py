"""Rendered pages and RDF documents, kept per dataset version, bounded in bytes (least recently used out).

A description is a function of the dataset version, the IRI, the format and the language, so a body
rendered once can be served again until the version changes (the version is part of every key, so a
reloaded or external store never gets an old body). Each worker process keeps its own cache.
`PAGE_CACHE_BYTES` (default 32 MiB; 0 turns caching off, as the benchmark does to time rendering).
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app

EXTENSION_KEY = "planlod.page_cache"
DEFAULT_BYTES = 32 * 1024 * 1024


class PageCache:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        with self.lock:
            body = self.entries.get(key)
            if body is not None:
                self.entries.move_to_end(key)
                return body
        body = make()  # outside the lock: two threads may render the same page once each, never wrongly
        if 0 < len(body) <= self.max_bytes // 8:  # one huge page must not flush everything else
            with self.lock:
                if key not in self.entries:
                    self.entries[key] = body
                    self.size += len(body)
                while self.size > self.max_bytes:
                    _, dropped = self.entries.popitem(last=False)
                    self.size -= len(dropped)
        return body


def cached(key: Hashable, make: Callable[[], bytes]) -> bytes:
    cache = current_app.extensions.get(EXTENSION_KEY)
    if cache is None:
        limit = int(current_app.config.get("PAGE_CACHE_BYTES", DEFAULT_BYTES))
        cache = current_app.extensions[EXTENSION_KEY] = PageCache(limit)
    if cache.max_bytes <= 0:
        return make()
    return cache.get_or_make(key, make)
