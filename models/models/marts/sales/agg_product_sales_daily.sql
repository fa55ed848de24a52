{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='placed_date',
        on_schema_change='fail'
    )
}}
-- Order lines rolled up to one row per order day × channel × SKU (and the channel's item
-- name): what the cockpit's top-products table groups, without every order line. No
-- province: with it the grain (days × channels × ~600 items × ~30 provinces) is about as
-- fine as the lines themselves at 6M lines (~0.5 line per group); without it ~13 lines fold
-- into a row. Like fct_order_lines, it carries no province: the region filter skips it.
--
-- Incremental like fct_order_lines: every order day with a line received since the cursor
-- (macros/incremental.sql) is recomputed whole from fct_order_lines and replaces that day's
-- rows (delete+insert on placed_date). An order keeps its order day, so a changed order only
-- touches the day it already counted in.

with

lines as (

    select * from {{ ref('fct_order_lines') }}
    {% if is_incremental() %}
    where placed_date in (
        select distinct placed_date from {{ ref('fct_order_lines') }}
        where last_received_at > {{ received_since() }}
    )
    {% endif %}

)

select
    placed_date,
    channel,
    sku,
    item_name,
    count(*) as line_count,
    sum(quantity) as quantity,
    sum(net_amount) as net_amount,
    sum(standard_cost_amount) as standard_cost_amount,
    sum(gross_margin_amount) as gross_margin_amount,
    max(last_received_at) as last_received_at
from lines
group by placed_date, channel, sku, item_name
