"""The embedded store: every source file loaded into pyoxigraph, one named graph each.

Pages, downloads and tools ask `DatasetStore.query` (trusted, in-process); the public /sparql endpoint
runs untrusted queries in killable worker processes (graph/query_pool.py) over the same on-disk store.

On disk, built once, opened read-only by everyone:

    prepare_store(store_dir, ...)  parses and validates the sources and writes a RocksDB store to
                                   {store_dir}/db-{fingerprint}/ (manifest.json written last marks it
                                   complete); when that directory exists already, nothing is parsed.
    DatasetStore.open(db_dir)      opens it with `Store.read_only`: gunicorn workers and query workers
                                   share the data through the OS page cache instead of a copy each.

The fingerprint hashes the base IRI and every source file's path and bytes, so an unchanged STORE_DIR
restarts without parsing or validating, and any edit builds a fresh store beside the old one. An old
store is deleted once no process holds it open (each opener keeps a shared lock on its manifest).
"""

import atexit
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pyoxigraph import NamedNode, Store

from .dataset import DatasetError, Source, discover, quads_of, turtle_files

# Bumped when the on-disk layout or what is loaded changes, so old store directories are not reused.
LAYOUT_VERSION = "1"
MANIFEST = "manifest.json"


class StoreError(Exception):
    """The store cannot be built; `report` holds the full text (e.g. the SHACL report) when there is one."""

    def __init__(self, message: str, report: str | None = None):
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class PreparedStore:
    path: Path  # the db directory to open read-only
    sources: list[Source]
    version: str  # the fingerprint: what ETags derive from
    triples: int


class DatasetStore:
    """The loaded dataset: a pyoxigraph store plus what was loaded into it."""

    def __init__(self, store: Store, sources: list[Source], base: str, version: str = "",
                 path: Path | None = None):
        self.store = store
        self.sources = sources
        self.base = base
        self.version = version
        self.path = path  # the on-disk RocksDB directory query workers open too; None when in memory
        self.modified = datetime.now(UTC)

    @classmethod
    def load(cls, ontology_dir: Path, shapes_dir: Path, data_dir: Path, base: str) -> "DatasetStore":
        """An in-memory store (tools and tests that need no query workers)."""
        sources = discover(ontology_dir, shapes_dir, data_dir, base)
        store = Store()
        for source in sources:
            store.extend(quads_of(source, base))
        return cls(store, sources, base, fingerprint(ontology_dir, shapes_dir, data_dir, base))

    @classmethod
    def open(cls, prepared: PreparedStore, base: str) -> "DatasetStore":
        path = prepared.path / "oxigraph"
        store = cls(_read_only(path), prepared.sources, base, prepared.version, path)
        newest = max((s.path.stat().st_mtime for s in prepared.sources if s.path.exists()), default=0)
        store.modified = datetime.fromtimestamp(int(newest), UTC)
        return store

    def graphs(self) -> list[str]:
        return sorted({source.graph for source in self.sources})

    def __len__(self) -> int:
        return len(self.store)

    def query(self, sparql: str, **options):
        """A trusted query; the default graph is the union of all graphs unless a dataset is given."""
        if "default_graph" not in options and "named_graphs" not in options:
            options.setdefault("use_default_graph_as_union", True)
        return self.store.query(sparql, **options)

    def graph_node(self, graph: str) -> NamedNode:
        return NamedNode(graph)


_open_stores: dict[tuple[int, Path], Store] = {}


_held: dict[tuple[int, Path], object] = {}


@atexit.register
def _release_held() -> None:
    """Close the lock handles at exit ourselves, rather than leave them to the interpreter's teardown."""
    for key in [k for k in _held if k[0] == os.getpid()]:
        _held.pop(key).close()


def _read_only(path: Path) -> Store:
    """One read-only handle per directory and process, however many apps a process makes (tests)."""
    key = (os.getpid(), path)
    if key not in _open_stores:
        _hold(path.parent)
        _open_stores[key] = Store.read_only(str(path))
    return _open_stores[key]


def _hold(db_dir: Path) -> None:
    """A shared lock on a store in use, for this process's lifetime: a rebuild never deletes it."""
    key = (os.getpid(), db_dir)
    if key not in _held:
        handle = open(db_dir / MANIFEST, "rb")  # noqa: SIM115 - kept open on purpose: it holds the lock
        fcntl.flock(handle, fcntl.LOCK_SH)
        _held[key] = handle


def _remove_if_unused(db_dir: Path) -> None:
    try:
        handle = open(db_dir / MANIFEST, "rb")
    except OSError:
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a server (or another app in this process) still reads it
        shutil.rmtree(db_dir, ignore_errors=True)


def fingerprint(ontology_dir: Path, shapes_dir: Path, data_dir: Path, base: str) -> str:
    digest = hashlib.sha256(f"planlod-store {LAYOUT_VERSION}\0{base}\0".encode())
    for kind, directory in (("ontology", ontology_dir), ("shapes", shapes_dir), ("data", data_dir)):
        for path in turtle_files(Path(directory)):
            digest.update(f"{kind}\0{path.relative_to(directory)}\0{path.stat().st_size}\0".encode())
            with open(path, "rb") as handle:
                for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()[:32]


def validate_or_raise(sources: list[Source], base: str) -> None:
    """The SHACL gate (planlod.validation, the shapes engineer's): a violation stops the build."""
    from ..validation import validate_sources

    report = validate_sources(sources, base)
    if not report.conforms:
        raise StoreError("the data does not conform to the shapes (SHACL); nothing was served",
                         report.text())


@contextmanager
def _locked(store_dir: Path):
    # Two processes starting on one STORE_DIR (gunicorn workers without a prepared store) build it once.
    store_dir.mkdir(parents=True, exist_ok=True)
    with open(store_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_manifest(db_dir: Path) -> PreparedStore | None:
    try:
        manifest = json.loads((db_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    sources = [Source(Path(s["path"]), s["kind"], s["graph"]) for s in manifest["sources"]]
    return PreparedStore(db_dir, sources, manifest["version"], manifest["triples"])


def prepare_store(store_dir: Path, ontology_dir: Path, shapes_dir: Path, data_dir: Path, base: str,
                  validate: Callable[[list[Source], str], None] | None = validate_or_raise) -> PreparedStore:
    """The on-disk store for these sources, built (and validated) only if it is not there yet."""
    store_dir = Path(store_dir)
    version = fingerprint(ontology_dir, shapes_dir, data_dir, base)
    db_dir = store_dir / f"db-{version}"
    prepared = read_manifest(db_dir)
    if prepared is not None:
        return prepared
    with _locked(store_dir):
        prepared = read_manifest(db_dir)  # another process may have built it while we waited
        if prepared is not None:
            return prepared
        try:
            sources = discover(Path(ontology_dir), Path(shapes_dir), Path(data_dir), base)
        except DatasetError as error:
            raise StoreError(str(error)) from None
        if validate is not None:
            validate(sources, base)
        building = Path(tempfile.mkdtemp(prefix="building-", dir=store_dir))
        try:
            store = Store(str(building / "oxigraph"))
            # One bulk load over every source: each bulk_extend call has a fixed cost (~0.15 s here), which
            # made 10,447 files take ~26 min; one call loads 316k quads in ~11 s (bench/scale.py).
            store.bulk_extend(quad for source in sources for quad in quads_of(source, base))
            store.flush()
            store.optimize()
            triples = len(store)
            del store  # closes the writer: read-only opens must not overlap a writer
            manifest = {"version": version, "base": base, "triples": triples,
                        "sources": [{"path": str(s.path), "kind": s.kind, "graph": s.graph} for s in sources]}
            (building / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                             encoding="utf-8")
            os.rename(building, db_dir)  # atomic: a db directory is complete or absent
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        for old in store_dir.glob("db-*"):
            if old != db_dir:
                _remove_if_unused(old)
        return read_manifest(db_dir)
