"""The pieces of the age format (age-encryption.org/v1) that peerloop writes or reads itself, beside pyrage,
which seals and opens the files: a passphrase file at a fixed work factor (pyrage would pick its own, 0.9 to
9.5 s here: docs/storage.md), an armored file's binary, and the Bech32 form of an identity."""

from __future__ import annotations

AGE_MAGIC = b"age-encryption.org/v1\n"
ARMOR_MAGIC = b"-----BEGIN AGE ENCRYPTED FILE-----"
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"


def dearmored(raw: bytes) -> bytes:
    """The binary age file inside an armored one (`age -a`): its header tells how it was encrypted."""
    import base64
    import binascii

    try:
        return base64.b64decode(b"".join(raw.strip().splitlines()[1:-1]))
    except binascii.Error:
        return b""


def passphrase_file(passphrase: str, text: bytes, work_factor: int) -> bytes:
    """An age file for a passphrase (an scrypt stanza) that `age -d` opens, at the work factor given: pyrage
    cannot be told one (docs/storage.md, `key.age`)."""
    import base64
    import hashlib
    import hmac
    import secrets

    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    def b64(raw: bytes) -> bytes:
        return base64.b64encode(raw).rstrip(b"=")

    file_key, salt, nonce = secrets.token_bytes(16), secrets.token_bytes(16), secrets.token_bytes(16)
    wrap_key = hashlib.scrypt(passphrase.encode("utf-8"), salt=SCRYPT_LABEL + salt,
                              n=1 << work_factor, r=8, p=1, maxmem=2048 << work_factor, dklen=32)  # fmt: skip
    body = ChaCha20Poly1305(wrap_key).encrypt(bytes(12), file_key, None)
    header = AGE_MAGIC + b"-> scrypt " + b64(salt) + b" %d\n" % work_factor + b64(body) + b"\n---"
    mac = hmac.new(_hkdf(file_key, b"", b"header"), header, "sha256").digest()
    payload = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload")).encrypt(bytes(11) + b"\x01", text, None)
    return header + b" " + b64(mac) + b"\n" + nonce + payload


def _hkdf(secret: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA-256 (RFC 5869) for one 32-byte key, as age derives its header and payload keys."""
    import hmac

    pseudo_random = hmac.new(salt or bytes(32), secret, "sha256").digest()
    return hmac.new(pseudo_random, info + b"\x01", "sha256").digest()


_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def bech32(prefix: str, data: bytes) -> str:
    """Bech32 (BIP 173), the text form of age keys: pyrage takes an identity only as text."""
    acc = bits = 0
    words = []
    for byte in data:
        acc, bits = acc << 8 | byte, bits + 8
        while bits >= 5:
            bits -= 5
            words.append(acc >> bits & 31)
    if bits:
        words.append(acc << (5 - bits) & 31)
    check = 1
    for value in [ord(c) >> 5 for c in prefix] + [0] + [ord(c) & 31 for c in prefix] + words + [0] * 6:
        top, check = check >> 25, (check & 0x1FFFFFF) << 5 ^ value
        for n, generator in enumerate(_GENERATOR):
            check ^= generator if top >> n & 1 else 0
    check ^= 1
    return prefix + "1" + "".join(_CHARSET[w] for w in words + [check >> 5 * (5 - n) & 31 for n in range(6)])
