"""The application factory."""

from flask import Flask

from .. import config


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(config.DEFAULTS)
    if test_config is None:
        app.config.from_prefixed_env("PLANLOD")
    else:
        app.config.from_mapping(test_config)

    from . import store_access

    store_access.init_app(app)
    # Each module adds its blueprint here, one line each.
    from . import fair_use, health

    health.init_app(app)  # first: its timer must run before any other hook can refuse a request
    fair_use.init_app(app)
    from . import query_page

    app.register_blueprint(query_page.bp)
    from . import pages

    pages.init_app(app)  # resource pages, the home page and the diagram
    from . import downloads

    downloads.init_app(app)  # dumps, outline CSV and the JSON-LD @context
    from . import catalog

    catalog.init_app(app)  # DCAT catalog and VoID
    from . import docs

    docs.init_app(app)  # ontology and shapes documentation
    from . import errors, sparql

    errors.init_app(app)  # every error answered in the client's form, never a traceback
    sparql.init_app(app)  # /sparql: the SPARQL 1.1 Protocol endpoint
    return app
