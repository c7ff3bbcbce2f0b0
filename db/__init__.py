"""The directory store: tables, engine and sessions, repositories and migrations.

This package imports no other project package; the SCIM front-end and the GraphQL API both
read and write the directory only through it.
"""
