"""A bounded in-memory cache of serialized /sparql results, and the ETags that name them.

What is cached: the exact bytes of a successful answer (status 200) with its media type and whether it
was cut, keyed by everything that decides those bytes — the dataset version, the query text, the
protocol dataset (default-graph-uri / named-graph-uri), the base IRI the query is resolved against,
the format, the BOM option and the row limit. Errors and time-outs are never cached. The dataset is
read-only while a server runs, so an entry is never stale; a new dataset has a new version and so new
keys. Least recently used entries go first once RESULT_CACHE_SIZE entries or RESULT_CACHE_BYTES bytes
are held; RESULT_CACHE_SIZE = 0 turns the cache off (benchmarks measure the engine that way).
The ETag is the key's hash, so a client holding one gets a 304 without the query being run.
"""

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedResult:
    body: bytes
    content_type: str
    truncated: bool
    rows: int | None


def result_key(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:32]


class ResultCache:
    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries = max(0, int(max_entries))
        self.max_bytes = max(0, int(max_bytes))
        self._entries: OrderedDict[str, CachedResult] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.max_bytes > 0

    def get(self, key: str) -> CachedResult | None:
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: str, entry: CachedResult) -> None:
        # One entry may take at most a quarter of the budget, so one huge result cannot empty the cache.
        if not self.enabled or len(entry.body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._bytes += len(entry.body)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)

    def __len__(self) -> int:
        return len(self._entries)
