"""What the SCIM front-end needs to know about its deployment."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScimConfig:
    base_url: str | None = None  # public URL of the service; None: derived from each request
    max_body_bytes: int = 1024 * 1024
    max_results: int = 1000  # largest page a list or search returns (ServiceProviderConfig)
    default_count: int = 100
    activity_log: bool = True  # record every change and refused write (scim.activity)
