"""saslclient.py: independent client sides of the SASL mechanisms tern offers,
written from the RFCs with hashlib/hmac only (no shared code with the
server): SCRAM (RFC 5802/7677, with channel binding), CRAM-MD5 (RFC 2195),
DIGEST-MD5 (RFC 2831), and JWT signing (HS256 with hmac; RS256/ES256 by the
openssl command line) for OAUTHBEARER (RFC 7628) and XOAUTH2.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import tempfile


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def unb64(text):
    return base64.b64decode(text)


def saslname(name):
    return name.replace("=", "=3D").replace(",", "=2C")


class Scram:
    """One SCRAM exchange. cb_name/cb_data for -PLUS; flag 'y' or 'n' else."""

    def __init__(self, user, password, hashname="sha256", cb_name=None, cb_data=b"",
                 flag="n", authzid=""):
        self.user, self.password, self.h = user, password, hashname
        self.nonce = b64(os.urandom(18))
        if cb_name:
            self.gs2 = f"p={cb_name},{'a=' + saslname(authzid) if authzid else ''},"
        else:
            self.gs2 = f"{flag},{'a=' + saslname(authzid) if authzid else ''},"
        self.cb_data = cb_data
        self.bare = f"n={saslname(user)},r={self.nonce}"

    def first(self):
        return self.gs2 + self.bare

    def final(self, server_first, cb_data=None, proof_password=None):
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        assert attrs["r"].startswith(self.nonce)
        salt, iters = unb64(attrs["s"]), int(attrs["i"])
        pw = (proof_password or self.password).encode()
        salted = hashlib.pbkdf2_hmac(self.h, pw, salt, iters)
        client_key = hmac.new(salted, b"Client Key", self.h).digest()
        stored_key = hashlib.new(self.h, client_key).digest()
        cbind = self.gs2.encode() + (self.cb_data if cb_data is None else cb_data)
        without_proof = f"c={b64(cbind)},r={attrs['r']}"
        self.auth_message = f"{self.bare},{server_first},{without_proof}".encode()
        sig = hmac.new(stored_key, self.auth_message, self.h).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        self.server_key = hmac.new(salted, b"Server Key", self.h).digest()
        return f"{without_proof},p={b64(proof)}"

    def verify_server(self, server_final):
        want = hmac.new(self.server_key, self.auth_message, self.h).digest()
        return server_final == "v=" + b64(want)


def scram_keys(password, hashname, salt=b"0123456789abcdef", iters=4096):
    """Dovecot's stored form: iter,salt,storedkey,serverkey."""
    salted = hashlib.pbkdf2_hmac(hashname, password.encode(), salt, iters)
    ck = hmac.new(salted, b"Client Key", hashname).digest()
    sk = hmac.new(salted, b"Server Key", hashname).digest()
    return f"{iters},{b64(salt)},{b64(hashlib.new(hashname, ck).digest())},{b64(sk)}"


def cram_md5(user, password, challenge):
    digest = hmac.new(password.encode(), challenge, "md5").hexdigest()
    return f"{user} {digest}"


def digest_md5(user, password, challenge, service="imap", host="localhost"):
    """RFC 2831 section 2.1.2, qop=auth."""
    fields = {}
    for part in challenge.decode().split(","):
        k, _, v = part.partition("=")
        fields[k.strip()] = v.strip().strip('"')
    realm, nonce = fields.get("realm", ""), fields["nonce"]
    cnonce, nc, uri = b64(os.urandom(12)), "00000001", f"{service}/{host}"
    a1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).digest() + \
        f":{nonce}:{cnonce}".encode()
    a2 = f"AUTHENTICATE:{uri}".encode()
    ha1, ha2 = hashlib.md5(a1).hexdigest(), hashlib.md5(a2).hexdigest()
    resp = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    return (f'username="{user}",realm="{realm}",nonce="{nonce}",cnonce="{cnonce}",'
            f'nc={nc},qop=auth,digest-uri="{uri}",response={resp},charset=utf-8')


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs256(claims, secret):
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}))
    body = b64url(json.dumps(claims))
    sig = hmac.new(secret, f"{head}.{body}".encode(), "sha256").digest()
    return f"{head}.{body}.{b64url(sig)}"


def _der_to_raw(der):
    """ECDSA-Sig-Value (DER SEQUENCE of two INTEGERs) to JWS R || S."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        out += der[i + 2:i + 2 + n].lstrip(b"\0").rjust(32, b"\0")
        i += 2 + n
    return out


def jwt_openssl(claims, key_path, alg):
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}))
    body = b64url(json.dumps(claims))
    with tempfile.NamedTemporaryFile() as f:
        f.write(f"{head}.{body}".encode())
        f.flush()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path, f.name],
                             capture_output=True, check=True).stdout
    if alg == "ES256":
        sig = _der_to_raw(sig)
    return f"{head}.{body}.{b64url(sig)}"


def oauthbearer(user, token, host="localhost", port=993):
    return f"n,a={saslname(user)},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"


def xoauth2(user, token):
    return f"user={user}\x01auth=Bearer {token}\x01\x01"
