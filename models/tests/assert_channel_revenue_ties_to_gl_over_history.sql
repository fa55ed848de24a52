-- Over the whole history every channel's order revenue, plus what its connectors
-- quarantined (placed in a month or not), ties to GL revenue within 1.00 CNY.
select
    channel,
    sum(gl_gross_revenue - order_revenue - quarantined_revenue)
        - max(channel_unplaced_revenue) as unexplained
from {{ ref('fct_revenue_reconciliation') }}
group by channel
having abs(
    sum(gl_gross_revenue - order_revenue - quarantined_revenue) - max(channel_unplaced_revenue)
) > {{ var('revenue_tolerance_abs', 1.00) }}
