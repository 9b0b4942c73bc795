"""The secret every SSBA poison carries: the official D-BR code's BCH code of the string "a"
(docs/attacks.md §8.2).

"a" padded with spaces to 7 bytes, BCH with t = 5 over GF(2^7) with primitive polynomial 137
(35 parity bits in 5 bytes), then 4 zero bits: 7 * 8 + 5 * 8 + 4 = 100 bits, most significant bit
of each byte first. bchlib >= 1.0 spells the code ``BCH(t=5, prim_poly=137)``; the official code's
``BCH(137, 5)`` is the same code in bchlib 0.14's argument order.
"""

from __future__ import annotations

import bchlib
import numpy as np

MESSAGE = "a"
DATA_BYTES = 7  # the official encode_image.py pads the message to 7 bytes
BCH_T, BCH_PRIMITIVE_POLYNOMIAL = 5, 137
PADDING_BITS = 4  # 96 BCH packet bits + 4 zeros = the encoder's 100-bit secret


def secret_bits(message: str = MESSAGE) -> np.ndarray:
    """The 100-bit secret of ``message`` (at most 7 ASCII characters) as float32 0/1 values."""
    data = message.encode("ascii")
    if len(data) > DATA_BYTES:
        raise ValueError(f"an SSBA message has at most {DATA_BYTES} ASCII characters: {message!r}")
    padded = bytearray(data.ljust(DATA_BYTES))
    parity = bchlib.BCH(t=BCH_T, prim_poly=BCH_PRIMITIVE_POLYNOMIAL).encode(padded)
    bits = np.unpackbits(np.frombuffer(bytes(padded + parity), dtype=np.uint8))
    return np.concatenate([bits, np.zeros(PADDING_BITS, np.uint8)]).astype(np.float32)
