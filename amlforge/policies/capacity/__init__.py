"""Rules of the capacity area: SKU, quota, disk and memory fit (AML2xx)."""
