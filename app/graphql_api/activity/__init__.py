"""The activity log: events, one resource's history, the provisioning summary."""
