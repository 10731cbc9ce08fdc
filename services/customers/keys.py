"""Every app key of the customers service, and nothing else (as aiohttp-demos' typedefs.py).

The JSON API's keys sit on the main app; the account pages' keys on their sub-app (read them
through ``request.config_dict``); the request keys carry what the pages' middleware learnt.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import jinja2
from aiohttp import web

from shared.auth import TokenIssuer

from .accounts import Accounts
from .config import Settings
from .keystore import KeyStore
from .web.config import WebConfig
from .web.security import Cookies

# --- The customers app -----------------------------------------------------------------------
SETTINGS = web.AppKey("customers_settings", Settings)
ACCOUNTS = web.AppKey("customers_accounts", Accounts)
ISSUER = web.AppKey("customers_token_issuer", TokenIssuer)
JWKS = web.AppKey("customers_jwks", dict[str, Any])
KEYSTORE = web.AppKey("customers_keystore", KeyStore)  # the data keys' own database
PAGE_COOKIES = web.AppKey("customers_page_cookies", Cookies)  # the account pages' cookie names

# --- The account pages' sub-app --------------------------------------------------------------
CONFIG = web.AppKey("account_config", WebConfig)
COOKIES = web.AppKey("account_cookies", Cookies)
CSRF_KEY = web.AppKey("account_csrf_key", bytes)
TEMPLATES = web.AppKey("account_templates", jinja2.Environment)
MAIN_APP = web.AppKey("account_main_app", web.Application)

# --- One account-page request ----------------------------------------------------------------
LANG = web.RequestKey("account_lang", str)
CUSTOMER = web.RequestKey("account_customer", UUID)
BINDING = web.RequestKey("account_csrf_binding", str)
