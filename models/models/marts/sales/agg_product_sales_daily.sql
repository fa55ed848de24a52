-- Order lines rolled up to one row per order day × channel × SKU (and the channel's item
-- name): what the cockpit's top-products table groups, without every order line. No
-- province: with it the grain (days × channels × ~600 items × ~30 provinces) is about as
-- fine as the lines themselves at 6M lines (~0.5 line per group); without it ~13 lines fold
-- into a row. Like fct_order_lines, it carries no province: the region filter skips it.

select
    placed_date,
    channel,
    sku,
    item_name,
    count(*) as line_count,
    sum(quantity) as quantity,
    sum(net_amount) as net_amount,
    sum(standard_cost_amount) as standard_cost_amount,
    sum(gross_margin_amount) as gross_margin_amount
from {{ ref('fct_order_lines') }}
group by placed_date, channel, sku, item_name
