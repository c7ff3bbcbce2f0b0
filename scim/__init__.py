"""SCIM 2.0 (RFC 7643/7644) front-end, with the quirks of Microsoft Entra's provisioning."""
