"""Synthetic Japanese personal data: names, addresses, phone numbers and valid My Numbers."""

from __future__ import annotations

import numpy as np

from leaktrace.sim.names import GIVEN_NAMES, PREFECTURES, SURNAMES


def my_number_check_digit(first11: str) -> int:
    """Check digit of a My Number (個人番号) from its first 11 digits (総務省令 第5条)."""
    if len(first11) != 11 or not first11.isdigit():
        raise ValueError("need exactly 11 digits")
    total = 0
    for n in range(1, 12):
        p = int(first11[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    rem = total % 11
    return 0 if rem <= 1 else 11 - rem


def is_valid_my_number(number: str) -> bool:
    return len(number) == 12 and number.isdigit() and my_number_check_digit(number[:11]) == int(number[11])


def my_number(rng: np.random.Generator) -> str:
    body = "".join(str(d) for d in rng.integers(0, 10, 11))
    return body + str(my_number_check_digit(body))


def person(rng: np.random.Generator) -> dict[str, str]:
    s = SURNAMES[int(rng.integers(len(SURNAMES)))]
    g = GIVEN_NAMES[int(rng.integers(len(GIVEN_NAMES)))]
    pref, city, postal = PREFECTURES[int(rng.integers(len(PREFECTURES)))]
    chome, ban, go = (int(x) for x in rng.integers(1, 30, 3))
    mobile = rng.random() < 0.6
    digits = rng.integers(0, 10, 8)
    if mobile:
        phone = f"0{rng.choice([70, 80, 90])}-{''.join(map(str, digits[:4]))}-{''.join(map(str, digits[4:]))}"
    else:
        phone = f"03-{''.join(map(str, digits[:4]))}-{''.join(map(str, digits[4:]))}"
    return {
        "name": f"{s[0]} {g[0]}",
        "postal": f"〒{postal}-{int(rng.integers(0, 10000)):04d}",
        "address": f"{pref}{city}{chome}丁目{ban}番{go}号",
        "phone": phone,
        "my_number": my_number(rng),
    }
