-- Order revenue ties to GL revenue per month and channel. Tolerance (documented in
-- fct_revenue_reconciliation.yml): after the quarantined source rows are added back,
-- |GL gross − order revenue − quarantined| ≤ 1.00 CNY, plus 2% of GL gross for the
-- file-fed channels (pos, manual) whose garbled rows may not be valued.
select *
from {{ ref('fct_revenue_reconciliation') }}
where not is_within_tolerance
