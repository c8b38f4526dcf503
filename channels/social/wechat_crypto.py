"""WeChat's message signatures and the safe mode's AES encryption.

As the Official Account "message encryption" guide and its WXBizMsgCrypt
sample code document: the URL signature is SHA-1 over the sorted
[token, timestamp, nonce] strings; in safe mode `msg_signature` adds the
`Encrypt` text to that list. The AES key is Base64(EncodingAESKey + "="),
32 bytes; AES-256-CBC with the key's first 16 bytes as IV; the plain text is
random(16) + big-endian length(4) + message + app id, padded PKCS#7-style to a
multiple of 32 bytes (WeChat's block size, not AES's 16).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class WeChatCryptoError(ValueError):
    pass


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_matches(presented: str, *parts: str) -> bool:
    return hmac.compare_digest(presented.lower().encode(), signature(*parts).encode())


def aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise WeChatCryptoError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise WeChatCryptoError("EncodingAESKey is not Base64") from exc
    return key


def _pad(data: bytes) -> bytes:
    amount = BLOCK - len(data) % BLOCK
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    amount = data[-1] if data else 0
    if not 1 <= amount <= BLOCK or data[-amount:] != bytes([amount]) * amount:
        raise WeChatCryptoError("bad padding")
    return data[:-amount]


def encrypt(
    message: bytes, encoding_aes_key: str, app_id: str, *, random: bytes | None = None
) -> str:
    key = aes_key(encoding_aes_key)
    plain = (random or os.urandom(16)) + struct.pack(">I", len(message)) + message + app_id.encode()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(_pad(plain)) + encryptor.finalize()).decode()


def decrypt(encrypted: str, encoding_aes_key: str, app_id: str) -> bytes:
    """The message inside `encrypted`; raises WeChatCryptoError if it is not for `app_id`."""
    key = aes_key(encoding_aes_key)
    try:
        cipher_text = base64.b64decode(encrypted, validate=True)
    except binascii.Error as exc:
        raise WeChatCryptoError("Encrypt is not Base64") from exc
    if not cipher_text or len(cipher_text) % 16:
        raise WeChatCryptoError("Encrypt has a bad length")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = _unpad(decryptor.update(cipher_text) + decryptor.finalize())
    if len(plain) < 20:
        raise WeChatCryptoError("decrypted text is too short")
    (length,) = struct.unpack(">I", plain[16:20])
    message, receiver = plain[20 : 20 + length], plain[20 + length :]
    if len(message) != length:
        raise WeChatCryptoError("decrypted length does not match")
    if receiver.decode(errors="replace") != app_id:
        raise WeChatCryptoError("the message is for another app id")
    return message
