"""What hosting providers answer to a letter, on its response page.

Every takedown notice and reminder to a hosting provider carries a link of
its own (:mod:`casemgr.responses.links`); behind it, with no account, the
provider answers per URL: removed, not hosted by us, cannot remove, or need
more information (:mod:`casemgr.responses.services`). Answers are recorded
as the provider's word, on the case and in the audit log.
"""

from flask import Blueprint

bp = Blueprint("responses", __name__)
