"""Keys of a Cozify Hub entry's data and options."""

from __future__ import annotations

from typing import Final

DEVICE_TYPE: Final = "cozify_hub"

CONF_CLOUD_URL: Final = "cloud_url"
"""Base URL of the Cozify cloud API (with its path, e.g. /ui/0.2)."""
CONF_CLOUD_TOKEN: Final = "cloud_token"  # noqa: S105 - a key, not a token
"""The account's cloud token (a secret)."""
CONF_TOKEN_RENEWED: Final = "token_renewed_at"  # noqa: S105 - a key
"""When the cloud token was issued or last renewed (epoch s)."""
CONF_HUB_ID: Final = "hub_id"
CONF_HUB_KEY: Final = "hub_key"
"""The hub's access token from the cloud (a secret)."""
CONF_MODE: Final = "mode"
MODE_LOCAL: Final = "local"
"""Talk to the hub on the LAN (CONF_HOST); the cloud relay when it does not answer."""
MODE_CLOUD: Final = "cloud"
"""Always talk to the hub through the Cozify cloud relay."""

CONF_LOCAL_INTERVAL: Final = "local_interval"
CONF_REMOTE_INTERVAL: Final = "remote_interval"
