"""How much one SCIM request may ask for, beyond the body size and nesting limits that
``app.request_limits`` applies to every front-end.

Both are far above anything Entra sends (it PATCHes at most a few hundred members at a time)
and still let a whole 1 MiB body of one-member operations through: a client that splits a
membership change into one operation per member is served (``scim.groups_patch`` batches
them), one that sends more is told so instead of holding a transaction open.
"""

#: Operations in one PATCH (RFC 7644 gives PATCH no limit; bulk answers 413 beyond its own).
MAX_PATCH_OPERATIONS = 10_000
#: Values of one multi-valued attribute in one request (a group's ``members`` included).
MAX_VALUES = 10_000
