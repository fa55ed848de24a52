"""A carrier's tracking API (Kuaidi100/Cainiao-style, simplified):
``GET {base}/tracking/{tracking_no}`` → ``{"status": "in_transit", "events": [...]}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from apps.ops.oms.config import OmsConfig
from apps.ops.oms.models import OmsShipment

STATUSES = ("created", "picked_up", "in_transit", "out_for_delivery", "delivered", "lost")


def http_tracker(
    config: OmsConfig, timeout: float = 10.0
) -> Callable[[OmsShipment], dict[str, Any]]:
    """Fetch the tracking status from the shipment's carrier (URLs are configuration,
    never taken from a request). A carrier that cannot be reached leaves it unchanged."""
    client = httpx.Client(timeout=timeout)

    def fetch(shipment: OmsShipment) -> dict[str, Any]:
        carrier = config.carriers.get(shipment.carrier)
        if carrier is None:
            return {"status": shipment.status}
        url = f"{carrier.tracking_url.rstrip('/')}/tracking/{shipment.tracking_no}"
        try:
            response = client.get(url)
        except httpx.HTTPError:
            return {"status": shipment.status}  # tried again on the next refresh
        if response.status_code == 404:
            return {"status": shipment.status}  # the carrier has not scanned it yet
        response.raise_for_status()
        body = response.json()
        status = body.get("status")
        if status not in STATUSES:
            raise ValueError(f"carrier answered an unknown status {status!r}")
        return {"status": status, "events": body.get("events", [])}

    return fetch
