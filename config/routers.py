"""The database router for a primary and its read replica (settings: DATABASE_REPLICA_URL).

Reads go where config.replica chose for the request; writes to the primary, after which the
request reads the primary too (it reads its own write, and a deferred retirement of the page
cache, evidence.cache.content_state, reads back the version it has just moved). Only the
primary is migrated: the replica is a copy of it.
"""

from django.db import DEFAULT_DB_ALIAS

from config.replica import REPLICA, read_alias, read_from_primary


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        read_from_primary()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database and its copy

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db != REPLICA
