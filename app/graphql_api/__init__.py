"""The read-only GraphQL API (strawberry). Reads the store; never imports the SCIM package."""
