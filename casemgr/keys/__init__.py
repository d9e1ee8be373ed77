"""The contact-encryption key's rotation: which columns hold values encrypted
with it (:mod:`casemgr.keys.registry`), moving them to the newest key
(:mod:`casemgr.keys.rotation`) and ``flask --app wsgi keys rotate-contact``
(:mod:`casemgr.keys.cli`). No routes, so no blueprint.
"""
