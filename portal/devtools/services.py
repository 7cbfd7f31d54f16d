"""Starts the dev identity provider and the FBS simulator for the demo."""


def start_dev_services() -> None:
    """Start the dev IdP and FBS simulator on their loopback ports, once per machine."""
