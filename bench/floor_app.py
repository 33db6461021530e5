"""The floor: an empty Flask route under the same gunicorn as `planlod serve`.

It answers GET /sparql with a fixed, tiny SPARQL JSON result without looking at the query, so its
throughput is what Flask + gunicorn + the loopback cost before any SPARQL work.
"""

from flask import Flask

app = Flask(__name__)

EMPTY_RESULT = b'{"head":{"vars":[]},"results":{"bindings":[]}}'


@app.get("/sparql")
def sparql():
    return EMPTY_RESULT, 200, {"Content-Type": "application/sparql-results+json"}
