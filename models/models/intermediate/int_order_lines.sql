{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_key',
        on_schema_change='fail'
    )
}}
-- One row per order line from every channel, with the master SKU resolved through the
-- catalog's channel SKU map (channel + channel SKU code → master SKU).
-- Incremental: every order with a raw version received since the cursor
-- (macros/incremental.sql) replaces all its lines (delete+insert on order_key).
with

tmall as (

    select * from {{ ref('stg_tmall__trade_lines') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

jd as (

    select * from {{ ref('stg_jd__order_lines') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

douyin as (

    select * from {{ ref('stg_douyin__order_lines') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

shopify as (

    select * from {{ ref('stg_shopify__order_lines') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

pos_lines as (

    -- a POS transaction or manual order is rebuilt from all its lines
    select * from {{ ref('stg_pos__sales_lines') }}
    {% if is_incremental() %}
    where transaction_id in (
        select transaction_id from {{ ref('stg_pos__sales_lines') }}
        where received_at > {{ received_since() }}
    )
    {% endif %}

),

manual_lines as (

    select * from {{ ref('stg_manual__order_lines') }}
    {% if is_incremental() %}
    where order_id in (
        select order_id from {{ ref('stg_manual__order_lines') }}
        where received_at > {{ received_since() }}
    )
    {% endif %}

),

sku_map as (select * from {{ ref('stg_catalog__channel_sku_map') }}),

unioned as (

    select channel, order_id, line_number, channel_sku_code, item_name, quantity, unit_price,
        discount_amount, net_amount, is_refunded, last_received_at
    from tmall
    union all
    select channel, order_id, line_number, channel_sku_code, item_name, quantity, unit_price,
        discount_amount, net_amount, is_refunded, last_received_at
    from jd
    union all
    select channel, order_id, line_number, channel_sku_code, item_name, quantity, unit_price,
        discount_amount, net_amount, is_refunded, last_received_at
    from douyin
    union all
    select channel, order_id, line_number, channel_sku_code, item_name, quantity, unit_price,
        discount_amount, net_amount, is_refunded, last_received_at
    from shopify
    union all
    select
        'pos', transaction_id,
        cast(row_number() over (partition by transaction_id order by source_file, source_line) as integer),
        sku, item_name, cast(quantity as integer), unit_price, cast(-discounts as decimal(18, 2)),
        net_sales, false, received_at
    from pos_lines
    where not is_refund
    union all
    select
        'manual', order_id,
        cast(row_number() over (partition by order_id order by source_row) as integer),
        channel_sku_code, item_name, quantity, unit_price, discount_amount, net_amount,
        false, received_at
    from manual_lines

),

resolved as (

    select
        {{ dbt_utils_surrogate('unioned.channel', 'unioned.order_id', 'unioned.line_number') }} as order_line_id,
        {{ dbt_utils_surrogate('unioned.channel', 'unioned.order_id') }} as order_key,
        unioned.channel,
        unioned.order_id,
        unioned.line_number,
        unioned.channel_sku_code,
        sku_map.sku,
        unioned.item_name,
        unioned.quantity,
        unioned.unit_price,
        unioned.discount_amount,
        unioned.net_amount,
        unioned.is_refunded,
        unioned.last_received_at
    from unioned
    left join sku_map
        on unioned.channel = sku_map.channel
        and unioned.channel_sku_code = sku_map.channel_sku_code

)

select * from resolved
