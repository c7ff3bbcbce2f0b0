"""``blink-directory demo``: a believable organisation, provisioned through the SCIM layer."""
