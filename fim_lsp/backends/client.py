"""The pooled HTTP client every backend's requests go through."""

from __future__ import annotations

import ssl

import certifi
import httpx

from . import h2reset


def make_client(ca_bundle: str = "") -> httpx.AsyncClient:
    """One pooled client for every request: keep-alive saves handshakes.

    HTTP/2 where the endpoint offers it (ALPN), with streams closed early reset (`h2reset`), so
    stopping a suggestion keeps the connection; else HTTP/1.1 keep-alive, where stopping a
    stream closes its connection and a spare one is opened. `trust_env`: HTTPS_PROXY, NO_PROXY
    and SSL_CERT_FILE are honoured; `ca_bundle` adds a company CA to the usual ones.
    """
    verify: ssl.SSLContext | bool = True
    if ca_bundle:
        context = ssl.create_default_context(cafile=certifi.where())
        context.load_verify_locations(cafile=ca_bundle)
        verify = context
    return httpx.AsyncClient(
        http2=h2reset.install(),
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4, keepalive_expiry=120),
        headers={"User-Agent": "fim-lsp"},
        trust_env=True,
        verify=verify,
    )
