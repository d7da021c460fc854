"""`serve --ssl-certfile/--ssl-keyfile`: decisions over real HTTPS with a certificate from a
throwaway CA (trustme) the client trusts; plain HTTP on that port gets no decision; a
certificate that cannot be used is one usage error, before anything is served."""
from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import trustme
from click.testing import CliRunner

import policyengine
from policyengine.cli import main

SEED = Path(__file__).resolve().parents[1] / "examples" / "2026-03-seed-22-minutes.json"
POLICYENGINE = (sys.executable, "-c", "from policyengine.cli import main; main()")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(paths["ca"])
    issued.cert_chain_pems[0].write_to_path(paths["cert"])
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(paths["cert"], append=True)
    issued.private_key_pem.write_to_path(paths["key"])
    return paths


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_decisions_are_served_over_https_and_plain_http_gets_none(certificates, tmp_path):
    port = free_port()
    output = tmp_path / "serve.txt"
    with output.open("w") as sink:
        server = subprocess.Popen([*POLICYENGINE, "serve", "--port", str(port), "--ssl-certfile", str(certificates["cert"]),
                                   "--ssl-keyfile", str(certificates["key"])], stdout=sink, stderr=subprocess.STDOUT)
    trusted = ssl.create_default_context(cafile=str(certificates["ca"]))
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None and time.monotonic() < deadline, output.read_text()
            try:
                if httpx.get(f"{base}/healthz", verify=trusted, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, verify=trusted, timeout=30) as http:
            decided = http.post("/v1/decisions", params={"trace": "none"}, content=SEED.read_bytes())
        expected = policyengine.to_json(policyengine.evaluate(json.loads(SEED.read_text()), trace="none"))
        assert decided.status_code == 200 and decided.text == expected  # the bytes evaluate prints
        with pytest.raises(httpx.ConnectError):  # a client that does not trust the CA refuses the certificate
            httpx.get(f"{base}/healthz", timeout=5)
        plain = None
        with contextlib.suppress(httpx.HTTPError):  # the TLS listener drops a request that is not TLS
            plain = httpx.post(f"http://127.0.0.1:{port}/v1/decisions", content=SEED.read_bytes(), timeout=5)
        assert plain is None or plain.status_code != 200
    finally:
        server.terminate()
        server.wait(30)
    assert f"on https://127.0.0.1:{port}" in output.read_text()


def test_a_certificate_that_cannot_be_used_is_a_usage_error(certificates, tmp_path):
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    other = trustme.CA().issue_cert("127.0.0.1")
    other_key = tmp_path / "other-key.pem"
    other.private_key_pem.write_to_path(other_key)
    for args, words in (
            (["--ssl-certfile", certificates["cert"]], "needs both"),
            (["--ssl-certfile", certificates["cert"], "--ssl-keyfile", not_a_key], "cannot serve HTTPS"),
            (["--ssl-certfile", certificates["cert"], "--ssl-keyfile", other_key], "cannot serve HTTPS"),
            (["--ssl-certfile", tmp_path / "none.pem", "--ssl-keyfile", certificates["key"]], "does not exist")):
        result = CliRunner().invoke(main, ["serve", "--port", "0", *map(str, args)])
        assert result.exit_code == 2 and words in result.output, result.output
        assert "Traceback" not in result.output
