"""moto_server with STS AssumeRoleWithWebIdentity as real STS treats it.

moto 5.2 (checked in moto/sts/models.py and moto/core/authorization.py):
  - AssumeRoleWithWebIdentity ignores WebIdentityToken entirely (no signature, issuer, audience or
    expiry check) and returns keys that validate afterwards, like AssumeRole's;
  - with INITIAL_NO_AUTH_ACTION_COUNT it demands a SigV4 signature on every action, this one too,
    which real STS never asks for (the call is unsigned: the token is the proof).
This launcher changes exactly those two things and nothing else: the one action goes unsigned, and its
token must be an RS256 JWT signed by a key in KEYLESS_TEST_OIDC_JWKS (a JWKS file), with iss =
KEYLESS_TEST_OIDC_ISSUER, aud = KEYLESS_TEST_OIDC_AUDIENCE and exp in the future, as STS checks a
token against the account's IAM OIDC provider. Refusals use STS's error codes (InvalidIdentityToken,
ExpiredTokenException). Every other action keeps moto's own signature and policy checks. The role's
trust policy conditions are not evaluated here (moto has no evaluator for federated principals).

Time compression, only when KEYLESS_TEST_STS_WEB_IDENTITY_SECONDS is set: the sessions this action
returns last that many seconds instead of DurationSeconds (STS's minimum is 900), so a test can watch a
refresh after expiry without waiting a quarter of an hour.
"""
import base64
import json
import os
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import _RESTError
from moto.server import main
from moto.sts.models import STSBackend


class InvalidIdentityToken(_RESTError):
    code = 400

    def __init__(self, message):
        super().__init__("InvalidIdentityToken", message)


class ExpiredToken(_RESTError):
    code = 400

    def __init__(self):
        super().__init__("ExpiredTokenException", "Token expired")


def b64(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def public_keys():
    with open(os.environ["KEYLESS_TEST_OIDC_JWKS"], encoding="utf-8") as f:
        jwks = json.load(f)
    keys = {}
    for k in jwks["keys"]:
        n = int.from_bytes(b64(k["n"]), "big")
        e = int.from_bytes(b64(k["e"]), "big")
        keys[k["kid"]] = rsa.RSAPublicNumbers(e, n).public_key()
    return keys


def check_token(token):
    parts = (token or "").split(".")
    if len(parts) != 3:
        raise InvalidIdentityToken("The ID token is not a JWT")
    header = json.loads(b64(parts[0]))
    claims = json.loads(b64(parts[1]))
    key = public_keys().get(header.get("kid"))
    if header.get("alg") != "RS256" or key is None:
        raise InvalidIdentityToken("No OpenIDConnect provider key matches the token's kid")
    try:
        key.verify(b64(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        raise InvalidIdentityToken("The token signature is invalid")
    if claims.get("iss") != os.environ["KEYLESS_TEST_OIDC_ISSUER"]:
        raise InvalidIdentityToken("No OpenIDConnect provider found in your account for this issuer")
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    if os.environ["KEYLESS_TEST_OIDC_AUDIENCE"] not in auds:
        raise InvalidIdentityToken("Incorrect token audience")
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= time.time():
        raise ExpiredToken()


original = ActionAuthenticatorMixin._authenticate_and_authorize_action


def authenticate(self, iam_request_cls, resource="*"):
    if self._get_action() == "AssumeRoleWithWebIdentity":
        check_token(self._get_param("WebIdentityToken"))
        return
    original(self, iam_request_cls, resource)


ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate

short_sessions = os.environ.get("KEYLESS_TEST_STS_WEB_IDENTITY_SECONDS")
if short_sessions:
    original_exchange = STSBackend.assume_role_with_web_identity

    def exchange(self, **kwargs):
        kwargs["duration"] = int(short_sessions)
        return original_exchange(self, **kwargs)

    STSBackend.assume_role_with_web_identity = exchange

if __name__ == "__main__":
    main(sys.argv[1:])
