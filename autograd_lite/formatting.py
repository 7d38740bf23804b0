"""The one byte formatter of the project (tape views, compiler statistics, benchmarks)."""


def format_bytes(n: float) -> str:
    """Exact bytes below 10,000 (4,120 B), else binary units, three digits (46.9 KiB, 1.24 GiB)."""
    if abs(n) < 10_000:
        return f"{int(n):,} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if abs(n) < 1000 or unit == "TiB":
            return f"{n:.3g} {unit}" if abs(n) < 100 else f"{n:,.0f} {unit}"
    raise AssertionError("unreachable")
