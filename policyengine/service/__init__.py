"""The decision service: the engine over HTTP for billing systems, with a decision log for
auditors (`policyengine serve`).

    app.py       the ASGI application: the routes and what a worker shares
    endpoint.py  what every request goes through: token and role, limits, time, problems, span, access log
    work.py      what a request does once its body is read (decide, batch, verify)
    audit.py     the decision log's routes: search, one decision, its explanation
    retries.py   Idempotency-Key: a retry answered from the log
    packs.py     the packs served, and their reload
    openapi.py   the OpenAPI 3.1 document, built from schemas/
    problems.py  errors as application/problem+json, with the command line's codes
    auth.py      bearer tokens and roles
    metrics.py   Prometheus metrics, summed over the workers
    tracing.py   the access log and OpenTelemetry spans
    config.py    what `serve` was given, passed to worker processes
    run.py       uvicorn: one process, or a supervisor that passes SIGHUP on
"""
