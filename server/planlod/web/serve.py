"""`planlod serve`: the app under gunicorn, on the embedded store, with nothing else to install.

    planlod serve [--host 127.0.0.1] [--port 8000] [--workers 2] [--threads 4] [--store-dir DIR]

Order of events:
1. Settings come from PLANLOD_* environment variables (as `create_app()` reads them); the options here
   override host, port, workers and the store directory.
2. The store is prepared once, before any worker starts (graph/store.py): the files are parsed, the
   SHACL gate runs, and a read-only RocksDB store is written to STORE_DIR (a temporary directory,
   removed on exit, when none is given). Invalid data: the report goes to stderr and the exit status
   is 1 — nothing is served. With an unchanged STORE_DIR a restart skips all of that.
   The preparing runs in a child process: RocksDB keeps background threads after a store is closed,
   and a gunicorn master that had them would fork workers that crash (SIGSEGV) when they exit.
3. gunicorn (gthread workers) loads `create_app()` in each worker; each opens the store read-only and
   starts its own warm query pool (graph/query_pool.py).
SIGTERM to this process stops gunicorn gracefully; workers and their query workers go with it.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from flask import Config

from .. import config

DEFAULT_HOST = "127.0.0.1"  # loopback unless told otherwise: exposing a server is a deliberate act
DEFAULT_PORT = 8000


def settings() -> Config:
    """The configuration `create_app()` will see in each worker."""
    cfg = Config(str(config.PROJECT_ROOT))
    cfg.from_mapping(config.DEFAULTS)
    cfg.from_prefixed_env("PLANLOD")
    return cfg


def prepare_in_child() -> int:
    """Run `prepare` in a fresh interpreter (same environment); its messages go to our stderr."""
    code = "import sys; from planlod.web.serve import prepare_main; sys.exit(prepare_main())"
    return subprocess.run([sys.executable, "-c", code], check=False).returncode


def prepare_main() -> int:
    problem = prepare(settings())
    if problem:
        print(problem, file=sys.stderr, flush=True)
        return 1
    return 0


def prepare(cfg: Config) -> str | None:
    """Build or reuse the on-disk store; returns an error report (for stderr) or None when ready."""
    from ..graph.dataset import DatasetError
    from ..graph.store import StoreError, prepare_store
    from ..validation import ShapesError

    try:
        prepared = prepare_store(Path(cfg["STORE_DIR"]), Path(cfg["ONTOLOGY_DIR"]), Path(cfg["SHAPES_DIR"]),
                                 Path(cfg["DATA_DIR"]), cfg["BASE_IRI"])
    except StoreError as error:
        return f"planlod serve: {error}\n\n{error.report}" if error.report else f"planlod serve: {error}"
    except (DatasetError, ShapesError) as error:
        return f"planlod serve: {error}"
    graphs = len({s.graph for s in prepared.sources})
    print(f"planlod serve: {prepared.triples} triples in {graphs} graphs, store {prepared.path}",
          file=sys.stderr, flush=True)
    return None


def gunicorn_options(args: argparse.Namespace, cfg: Config) -> dict:
    host = f"[{args.host}]" if ":" in args.host else args.host
    limit = float(cfg.get("QUERY_TIMEOUT") or 30)
    return {
        "bind": f"{host}:{args.port}",
        "workers": args.workers,
        "worker_class": "gthread",
        "threads": args.threads,
        # A gthread worker keeps beating while its threads wait on queries; this only catches a hung one.
        "timeout": int(limit) + 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "planlod",
        # gunicorn 25+ opens a control socket at one fixed path per user; two servers would collide.
        "control_socket_disable": True,
        # Requests lines stay bounded (gunicorn's maximum): a query longer than ~8 KB is POSTed.
        "limit_request_line": 8190,
    }


def run_gunicorn(options: dict) -> int:
    from gunicorn.app.base import BaseApplication

    class PlanlodServer(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from .app import create_app

            return create_app()

    try:
        PlanlodServer().run()
    except SystemExit as stop:  # gunicorn's arbiter leaves by sys.exit
        return stop.code if isinstance(stop.code, int) else 0
    return 0


def serve(args: argparse.Namespace) -> int:
    if args.store_dir:
        os.environ["PLANLOD_STORE_DIR"] = args.store_dir
    cfg = settings()
    temporary = None
    # One metrics directory for all workers of this server (web/health.py sums their snapshots).
    metrics_dir = None
    if not os.environ.get("PLANLOD_METRICS_DIR"):
        metrics_dir = os.environ["PLANLOD_METRICS_DIR"] = tempfile.mkdtemp(prefix="planlod-metrics-")
    if not cfg.get("STORE") and not cfg.get("STORE_DIR"):
        temporary = tempfile.mkdtemp(prefix="planlod-serve-")
        os.environ["PLANLOD_STORE_DIR"] = cfg["STORE_DIR"] = temporary
    try:
        if not cfg.get("STORE") and prepare_in_child() != 0:
            return 1
        return run_gunicorn(gunicorn_options(args, cfg))
    finally:
        for directory in (temporary, metrics_dir):
            if directory:
                shutil.rmtree(directory, ignore_errors=True)


def register(subparsers) -> None:
    parser = subparsers.add_parser("serve", help="serve the dataset (pages, /sparql) under gunicorn",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--store-dir", help="on-disk store directory, reused across restarts "
                                            "(default: PLANLOD_STORE_DIR, else a temporary directory)")
    parser.set_defaults(handler=serve)
