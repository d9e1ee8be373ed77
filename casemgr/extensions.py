"""Flask extensions, created unbound; the factory initialises them."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from casemgr.database import Base
from casemgr.privacy import client_key

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Limits are declared on the routes that need them (the public form); the key
# is a salted hash of the client address, never the address itself.
limiter = Limiter(key_func=client_key)
