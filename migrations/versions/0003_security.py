"""security: second factor, recovery codes, sign-in throttling, hash-chained audit log

- users: when the password changed; the TOTP secret (encrypted), when it was
  set up and the last time step accepted (replay protection).
- recovery_codes: one-time codes, SHA-256 only.
- login_throttle: failed sign-ins and locks per e-mail address (hashed).
- audit_log: prev_hash and entry_hash chain the entries (existing entries are
  chained here, in id order); actor_id loses ON DELETE SET NULL (an entry
  never changes) and gains an index (the admin screen searches by actor).
- audit_log is append-only in the database: triggers refuse UPDATE and DELETE
  (and TRUNCATE on PostgreSQL). They stop the application's own mistakes and
  an injected statement; an owner of the database can drop them, which the
  hash chain then exposes (`flask audit verify`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 11:17:26.819280

"""

import hashlib
import json
from datetime import timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64

POSTGRESQL_GUARD = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$""",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]
POSTGRESQL_UNGUARD = [
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
]
SQLITE_GUARD = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END",
]
SQLITE_UNGUARD = [
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
]


def _entry_hash(row, prev_hash):
    """A copy of casemgr.audit.chain.entry_hash as of this revision."""
    created_at = row.created_at
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=timezone.utc)
    details = row.details
    if isinstance(details, str):
        details = json.loads(details)
    document = {
        "action": row.action,
        "actor_id": row.actor_id,
        "created_at": created_at.astimezone(timezone.utc).isoformat(),
        "details": details if details is not None else {},
        "prev_hash": prev_hash,
        "target_id": row.target_id,
        "target_type": row.target_type,
    }
    data = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _chain_existing_entries():
    connection = op.get_bind()
    table = sa.table(
        "audit_log",
        sa.column("id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("actor_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("target_type", sa.String),
        sa.column("target_id", sa.String),
        sa.column("details", sa.JSON),
        sa.column("prev_hash", sa.String),
        sa.column("entry_hash", sa.String),
    )
    previous = GENESIS
    rows = connection.execute(sa.select(table).order_by(table.c.id)).all()
    for row in rows:
        digest = _entry_hash(row, previous)
        connection.execute(
            table.update().where(table.c.id == row.id).values(prev_hash=previous, entry_hash=digest)
        )
        previous = digest


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_secret", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("totp_enrolled_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
    _chain_existing_entries()
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("entry_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f("ix_audit_log_actor_id"), ["actor_id"], unique=False)
        batch_op.drop_constraint(batch_op.f("fk_audit_log_actor_id_users"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_log_actor_id_users"), "users", ["actor_id"], ["id"]
        )

    # Last: on SQLite the batch operations above rebuild the table, which drops its triggers.
    _run(POSTGRESQL_GUARD if op.get_bind().dialect.name == "postgresql" else SQLITE_GUARD)


def downgrade():
    _run(POSTGRESQL_UNGUARD if op.get_bind().dialect.name == "postgresql" else SQLITE_UNGUARD)

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_audit_log_actor_id_users"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_log_actor_id_users"),
            "users",
            ["actor_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_index(batch_op.f("ix_audit_log_actor_id"))
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enrolled_at")
        batch_op.drop_column("totp_secret")
        batch_op.drop_column("password_changed_at")

    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))

    op.drop_table("recovery_codes")
    op.drop_table("login_throttle")
