"""Authentication: a custom user per gym schema, django-allauth (web, MFA, headless) and
django-axes lockouts."""

import environ

env = environ.Env()

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first so a locked-out account is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's and allauth's (apps/accounts/backends.py).
    "apps.accounts.backends.ModelBackend",
    "apps.accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
# Gyms add members by invitation; open self sign-up on a gym host is off.
ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("URL_SCHEME", default="http")
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# allauth's own limits (its 429 page, or a 429 from the headless API). "login_failed" is set
# below, next to the axes settings it has to agree with.
ACCOUNT_RATE_LIMITS = {
    # Requesting a reset email: per IP, and per address so nobody floods one inbox.
    "reset_password": "10/m/ip,3/15m/key",
    # Opening and submitting the link from the email.
    "reset_password_from_key": "10/m/ip",
    # Sign-up on a gym host (accepting an invitation).
    "signup": "5/m/ip",
    # Re-sending the verification email.
    "confirm_email": "1/3m/key",
}
# allauth reads the client address through the adapter's get_client_ip, which applies the one
# rule of apps.core.client_address; this count is the same TRUSTED_PROXY_COUNT in case any
# allauth code reads X-Forwarded-For on its own.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
HEADLESS_CLIENTS = ("app", "browser")
# Off: tracking "last seen" writes to the database on every request (every API call of a
# mobile app). The sessions page still lists each session with where and when it started.
USERSESSIONS_TRACK_ACTIVITY = env.bool("USERSESSIONS_TRACK_ACTIVITY", default=False)

# Failed logins within the cool-off are counted per (email, IP), per email from any IP and per
# IP over any emails, each against its own limit (apps.accounts.lockouts.LockoutHandler): the
# first two stop guesses at one account from one or from many addresses, the third one address
# trying many accounts. The wider two are higher so that a member's own typos, or a gym's
# members behind one address, rarely reach them.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ACCOUNT_FAILURE_LIMIT = env.int("AXES_ACCOUNT_FAILURE_LIMIT", default=2 * AXES_FAILURE_LIMIT)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=4 * AXES_FAILURE_LIMIT)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "login"
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "apps.accounts.lockouts.LockoutHandler"
# allauth authenticates with `email`, not AXES_USERNAME_FORM_FIELD: without this axes would
# lock out (no username, IP), i.e. everybody behind that IP.
AXES_USERNAME_CALLABLE = "apps.accounts.lockouts.lockout_username"
AXES_CLIENT_IP_CALLABLE = "apps.core.client_address.client_address"
# 429 with Retry-After: a page on the web, JSON on the headless and REST APIs.
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout_views.lockout_response"
# allauth counts failed logins too. Its per-account limit stays above AXES_ACCOUNT_FAILURE_LIMIT
# so that axes (logged, answered with the lockout page, unlockable by a manager) locks first;
# its per-IP limit is a brake on bursts, by the minute.
ACCOUNT_RATE_LIMITS["login_failed"] = f"10/m/ip,{2 * AXES_ACCOUNT_FAILURE_LIMIT}/15m/key"

# Owners and managers need two-factor authentication before these (billing and exports join
# with their own views through apps.accounts.decorators.mfa_required).
MFA_REQUIRED_PATH_PREFIXES = ["/admin/", "/billing/"]
