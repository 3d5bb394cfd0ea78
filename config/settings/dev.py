"""Local development and `make demo`: embedded services, DEBUG from env (off by default so the demo behaves
like production)."""

from config.settings.base import *  # noqa: F403

# `dragonrec_demo_data` creates the admin/dragonrec-demo superuser the README names. Only here: a password
# printed in a README must never exist on a real deployment.
DRAGONREC_DEMO_ADMIN = True
