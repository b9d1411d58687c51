"""Prometheus metrics of the realtime gateway (scraped at `/metrics` with the HTTP ones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CONNECTIONS = Gauge("tessera_realtime_connections", "Open WebSocket connections")
CONNECTIONS_OPENED = Counter(
    "tessera_realtime_connections_opened_total", "WebSocket connections accepted"
)
CLOSES = Counter(
    "tessera_realtime_closes_total",
    "WebSocket connections closed, by close code (the client's or the server's)",
    ["code"],
)
LIMITS = Counter(
    "tessera_realtime_limit_hits_total",
    "Limits enforced on WebSocket clients",
    ["limit"],  # slow_consumer, rate, too_big, bad_messages, subscriptions, user_connections, ...
)
ERRORS = Counter(
    "tessera_realtime_error_frames_total", "Error frames sent to clients, by code", ["code"]
)
AUTH_FAILURES = Counter(
    "tessera_realtime_auth_failures_total", "Failed WebSocket authentications", ["code"]
)
SUBSCRIPTIONS = Gauge("tessera_realtime_subscriptions", "Active channel subscriptions")
FRAMES_IN = Counter("tessera_realtime_frames_received_total", "Frames received from clients")
FRAMES_OUT = Counter("tessera_realtime_frames_sent_total", "Frames queued to clients")
PUBLICATIONS = Counter(
    "tessera_realtime_publications_total", "Publications received by this process for delivery"
)
RESYNCS = Counter(
    "tessera_realtime_resyncs_total",
    "Subscriptions told to reload because the history no longer reached back",
)
CATCH_UPS = Counter("tessera_realtime_catch_ups_total", "Gaps in a channel filled from its history")
REVOKED = Counter(
    "tessera_realtime_revoked_closes_total", "Sockets closed because their sign-in was revoked"
)
