"""The decision service: the engine over HTTP for billing systems, with a decision log for
auditors (`policyengine serve`).

    app.py       the ASGI application: routes, auth, limits, problems, metrics
    work.py      what a request does once its body is read (decide, batch, verify)
    packs.py     the packs served, and their reload
    openapi.py   the OpenAPI 3.1 document, built from schemas/
    problems.py  errors as application/problem+json, with the command line's codes
    auth.py      bearer tokens and roles
    metrics.py   Prometheus metrics
    config.py    what `serve` was given, passed to worker processes
    run.py       uvicorn: one process, or a supervisor that passes SIGHUP on
"""
