-- The cockpit's rollups lose and invent nothing: per order day and channel, orders and
-- revenue of agg_orders_daily equal fct_orders', and lines, units and net sales of
-- agg_product_sales_daily equal fct_order_lines'.
with

orders as (
    select placed_date, channel, count(*) as n, sum(revenue_amount) as revenue
    from {{ ref('fct_orders') }} group by all
),

orders_rollup as (
    select placed_date, channel, sum(order_count) as n, sum(order_revenue) as revenue
    from {{ ref('agg_orders_daily') }} group by all
),

lines as (
    select placed_date, channel, count(*) as n, sum(quantity) as quantity,
        sum(net_amount) as net_amount
    from {{ ref('fct_order_lines') }} group by all
),

lines_rollup as (
    select placed_date, channel, sum(line_count) as n, sum(quantity) as quantity,
        sum(net_amount) as net_amount
    from {{ ref('agg_product_sales_daily') }} group by all
)

select 'orders' as rollup, *
from (select * from orders except select * from orders_rollup)
union all
select 'orders', * from (select * from orders_rollup except select * from orders)
union all
select 'lines', placed_date, channel, n, net_amount
from (select * from lines except select * from lines_rollup)
union all
select 'lines', placed_date, channel, n, net_amount
from (select * from lines_rollup except select * from lines)
