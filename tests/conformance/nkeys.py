"""NKeys for the conformance cases: decode a seed, encode public keys, sign a nonce.

Encoding (github.com/nats-io/nkeys strkey.go): base32 without padding of
    prefix byte(s) || 32 key bytes || CRC16-XMODEM of what precedes, little-endian.
Public keys have one prefix byte (user: 20<<3, giving "U..."); seeds have two,
(18<<3 | type>>5) and ((type & 31) << 3), giving "SU..." for a user seed. The key in a seed
is the Ed25519 seed; signatures are Ed25519, through libsodium via ctypes (no Python
packages needed).

    python3 tests/conformance/nkeys.py      # self-test against known seed/public pairs
"""
import base64
import ctypes
import ctypes.util

PREFIX_SEED = 18 << 3
PREFIX_USER = 20 << 3
PREFIX_ACCOUNT = 0

_sodium = None


def _lib():
    global _sodium
    if _sodium is None:
        name = "libsodium.so.23"
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            found = ctypes.util.find_library("sodium")
            if not found:
                raise
            lib = ctypes.CDLL(found)
        if lib.sodium_init() < 0:
            raise OSError("sodium_init failed")
        _sodium = lib
    return _sodium


def crc16(data):
    """CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _b32encode(raw):
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def _b32decode(text):
    return base64.b32decode(text + "=" * (-len(text) % 8))


def encode(prefix, key):
    raw = bytes([prefix]) + key
    return _b32encode(raw + crc16(raw).to_bytes(2, "little"))


def encode_seed(type_prefix, seed):
    raw = bytes([PREFIX_SEED | (type_prefix >> 5), (type_prefix & 31) << 3]) + seed
    return _b32encode(raw + crc16(raw).to_bytes(2, "little"))


def decode_seed(text):
    """Returns (type prefix byte, 32-byte Ed25519 seed); checks the CRC and prefix."""
    raw = _b32decode(text)
    body, crc = raw[:-2], int.from_bytes(raw[-2:], "little")
    if crc16(body) != crc:
        raise ValueError("nkey seed: bad checksum")
    if body[0] & 0xF8 != PREFIX_SEED or len(body) != 34:
        raise ValueError("not an nkey seed")
    type_prefix = ((body[0] & 7) << 5) | ((body[1] & 0xF8) >> 3)
    return type_prefix, body[2:]


def _keypair(seed32):
    lib = _lib()
    pk = ctypes.create_string_buffer(32)
    sk = ctypes.create_string_buffer(64)
    if lib.crypto_sign_seed_keypair(pk, sk, seed32) != 0:
        raise ValueError("crypto_sign_seed_keypair failed")
    return pk.raw, sk.raw


class KeyPair:
    """A key pair from an encoded seed ("SU..."), or from 32 raw seed bytes. libsodium is
    loaded on first use, and not at all for a known `public` key until something is signed:
    case modules can build key pairs at import time on a machine without it."""

    def __init__(self, seed, public=None, type_prefix=PREFIX_USER):
        if isinstance(seed, str):
            type_prefix, seed = decode_seed(seed)
        self.type_prefix = type_prefix
        self.raw_seed = bytes(seed)
        self._public = public
        self._pair = None

    def _keys(self):
        if self._pair is None:
            self._pair = _keypair(self.raw_seed)
        return self._pair

    @property
    def raw_public(self):
        return self._keys()[0]

    @property
    def _secret(self):
        return self._keys()[1]

    @property
    def seed(self):
        return encode_seed(self.type_prefix, self.raw_seed)

    @property
    def public_key(self):
        if self._public is None:
            self._public = encode(self.type_prefix, self.raw_public)
        return self._public

    def sign(self, data):
        """Detached Ed25519 signature (64 bytes) of `data` (bytes or ASCII text)."""
        if isinstance(data, str):
            data = data.encode("ascii")
        lib = _lib()
        sig = ctypes.create_string_buffer(64)
        siglen = ctypes.c_ulonglong(0)
        if lib.crypto_sign_detached(sig, ctypes.byref(siglen), data,
                                    ctypes.c_ulonglong(len(data)), self._secret) != 0:
            raise ValueError("crypto_sign_detached failed")
        return sig.raw[:siglen.value]

    def verify(self, data, sig):
        if isinstance(data, str):
            data = data.encode("ascii")
        return _lib().crypto_sign_verify_detached(
            sig, data, ctypes.c_ulonglong(len(data)), self.raw_public) == 0


def sig_url(sig):
    """The encoding clients send: base64 URL alphabet, no padding."""
    return base64.urlsafe_b64encode(sig).decode("ascii").rstrip("=")


def sig_std(sig):
    """Standard base64 with padding: nats-server also accepts this."""
    return base64.b64encode(sig).decode("ascii")


# Known pairs from nats-server's tests (server/config_check_test.go: the seed is the comment
# above the public key) and from nkeys' creds_utils_test.go (seed and the JWT's "sub").
KNOWN = [
    ("SUAEL6RU3BSDAFKOHNTEOK5Q6FTM5FTAMWVIKBET6FHPO4JRII3CYELVNM",
     "UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3"),
    ("SUADZTYQAKTY5NQM7XRB5XR3C24M6ROGZLBZ6P5HJJSSOFUGC5YXOOECOM",
     "UD6AYQSOIN2IN5OGC6VQZCR4H3UFMIOXSW6NNS6N53CLJA4PB56CEJJI"),
    ("SUAOTBNEUHZDFJT3EUMELT7MQTP24JF3XVCXQNDSCU74G5IU6VAJBKH5LI",
     "UDE6WTGLTTPCRJRJCKBJRGVNZTLIVR7LEEELR4CYWWWBKJS7XYIKXDUU"),
]


def self_test():
    for seed, public in KNOWN:
        kp = KeyPair(seed)   # derives the public key
        assert kp.type_prefix == PREFIX_USER, seed
        assert kp.seed == seed, (kp.seed, seed)
        assert kp.public_key == public, (kp.public_key, public)
        s = kp.sign("nonce-123")
        assert len(s) == 64 and kp.verify("nonce-123", s) and not kp.verify("nonce-124", s)
    # A seed made here round-trips and starts with "SU"; its public key with "U".
    kp = KeyPair(bytes(range(32)))
    assert kp.seed.startswith("SU") and kp.public_key.startswith("U")
    assert KeyPair(kp.seed).public_key == kp.public_key
    assert crc16(b"123456789") == 0x31C3   # the CRC-16/XMODEM check value
    bad = KNOWN[0][0]
    bad = bad[:10] + ("A" if bad[10] != "A" else "B") + bad[11:]
    try:
        decode_seed(bad)
    except ValueError:
        pass
    else:
        raise AssertionError("a corrupted seed decoded")
    return True


if __name__ == "__main__":
    self_test()
    print("nkeys self-test ok")
