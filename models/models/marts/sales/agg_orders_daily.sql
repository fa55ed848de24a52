-- The orders semantic model rolled up to one row per order day × channel × province: every
-- measure of `orders` (models/models/marts/sales/fct_orders.yml) is additive (count or sum),
-- so each column below is that measure pre-aggregated under the measure's own name, and a
-- metric on the rollup is the same metric on fct_orders, summed over ~1000× fewer rows.
-- semantic/export.py writes the Superset metrics of the rollup from the `orders` metrics
-- (its `config.meta.opslake.rollups`); tests/semantic/test_rollups.py checks every measure.
-- A table, like fct_orders it reads: the group-by costs a scan of fct_orders per build.

select
    placed_date,
    channel,
    province,
    count(order_key) as order_count,
    cast(sum(case when is_paid then 1 else 0 end) as bigint) as paid_order_count,
    sum(revenue_amount) as order_revenue,
    sum(gross_margin_amount) as order_gross_margin,
    cast(sum(case when shipped_at is not null then 1 else 0 end) as bigint) as shipped_order_count,
    cast(sum(case when is_shipped_on_time then 1 else 0 end) as bigint) as on_time_shipped_order_count,
    cast(sum(case when is_accurate then 1 else 0 end) as bigint) as accurate_order_count,
    cast(sum(case when is_returned then 1 else 0 end) as bigint) as returned_order_count,
    sum(processing_hours) as processing_hours_total
from {{ ref('fct_orders') }}
group by placed_date, channel, province
