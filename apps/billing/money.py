"""Amounts between minor units (stored) and what people type and read (major units)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from apps.tenants import branding

# ISO 4217 currencies without minor units (Stripe's list of zero-decimal currencies).
ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)


def exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def to_minor(amount: Decimal, currency: str) -> int:
    """60.5 EUR is 6050."""
    scaled = amount * (10 ** exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount) / (10 ** exponent(currency))


def format_money(amount: int | None, currency: str) -> str:
    """6050 minor units of EUR, written the reader's way ("€60.50", "60,50 €")."""
    if amount is None:
        return "\u2013"
    return branding.format_money(to_major(amount, currency), currency.upper())
