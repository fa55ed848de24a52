-- Deduplication never loses or invents an order: each API channel's order count in the
-- mart equals its distinct (channel, order_id) in raw.
with raw_orders as (
    select channel, count(distinct order_id) as n from {{ source('raw', 'tmall_trades') }} group by 1
    union all
    select channel, count(distinct order_id) from {{ source('raw', 'jd_orders') }} group by 1
    union all
    select channel, count(distinct order_id) from {{ source('raw', 'douyin_orders') }} group by 1
    union all
    select channel, count(distinct order_id) from {{ source('raw', 'shopify_orders') }} group by 1
),

mart as (
    select channel, count(*) as n from {{ ref('fct_orders') }} group by 1
)

select raw_orders.channel, raw_orders.n as raw_n, mart.n as mart_n
from raw_orders
left join mart on raw_orders.channel = mart.channel
where mart.n is null or mart.n <> raw_orders.n
