"""The outbox's real SMTP server on 127.0.0.1, for the checkpoint e-mail's tests."""

from tests.outbox.conftest import mail_config, recorder, smtp, smtp_port  # noqa: F401 - fixtures
