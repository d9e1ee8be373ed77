"""Provider replies by e-mail: parsed, matched to our letters, threaded into the cases.

Only text is kept; an attachment is never stored or opened (it may be the
material itself): its name, type, size and SHA-256 are recorded, its bytes
dropped. Mail that matches nothing waits in the supervisors' "unmatched
mail" list.
"""

from flask import Blueprint

bp = Blueprint("inbound", __name__)
