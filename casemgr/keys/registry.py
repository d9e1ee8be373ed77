"""Every column that holds values encrypted with the contact key (``context.cipher()``).

``flask --app wsgi keys rotate-contact`` walks these and nothing else, so a
value encrypted with the key in a column missing here stays under the old key
and is lost with it. **A new encrypted column joins by one line** in
:data:`ENCRYPTED_COLUMNS`::

    EncryptedColumn(Model, "column"),

(the model's class and the attribute's name; the table needs a one-column
primary key; the column may hold ``bytes`` or text). tests/keys/test_registry.py
fails on a binary column that is in neither this list nor its list of columns
known to hold no ciphertext.

Not here, because nothing in them is encrypted with this key: the partners'
API tokens *to us* (``api_tokens.token_hash``: a SHA-256 hash, nothing to
decrypt; a hash does not depend on the key), the reporters' receipt codes
(``submission_receipts.verifier_hash``: scrypt hashes), the thank-you page's
receipt and the /status page's pass (encrypted under keys derived from
SECRET_KEY, and never stored), and the audit log (HMACs under AUDIT_KEY,
docs/audit.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column

from casemgr.auth.models import User
from casemgr.cases.models import Submission
from casemgr.database import Base
from casemgr.directory.models import Organisation
from casemgr.outbox.models import OutboxMessage
from casemgr.reporter.models import ReporterMessage


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[Base]
    attribute: str

    @property
    def column(self) -> Column:
        return self.model.__table__.c[self.attribute]

    @property
    def primary_key(self) -> Column:
        (key,) = self.model.__table__.primary_key.columns
        return key

    @property
    def name(self) -> str:
        """``table.column``, as printed and audited."""
        return f"{self.model.__tablename__}.{self.attribute}"


ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    # Reporters' contact details (public form, staff intake, partners' API).
    EncryptedColumn(Submission, "reporter_contact"),
    # Messages on a submission: the reporter's, on /status, and staff questions.
    EncryptedColumn(ReporterMessage, "body"),
    # Second factors: the secret in use, and one being set up.
    EncryptedColumn(User, "totp_secret"),
    EncryptedColumn(User, "totp_pending_secret"),
    # A reporter's address on a feedback e-mail not yet sent.
    EncryptedColumn(OutboxMessage, "sealed_recipient"),
    # Our API token at a partner hotline's installation (docs/partners.md).
    EncryptedColumn(Organisation, "api_token_encrypted"),
)
