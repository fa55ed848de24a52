"""The demo company: a realistic, deterministic Chinese home-goods SME whose source systems
(marketplaces, web shop, stores, Excel, stock, purchasing, CRM, HR, finance, workshop,
quality, projects) are written in their native shapes, with the truth it injected.

    from ingest.demo import generate
    truth = generate(out_dir, scale=50_000, seed=42, progress=None)
"""

from .generator import generate

__all__ = ["generate"]
