{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_key',
        on_schema_change='fail'
    )
}}
-- One row per order from every channel (tmall, jd, douyin, shopify, pos, manual) at its
-- latest version, with a common lifecycle and amounts in CNY.
-- Incremental: every order with a raw version received since the cursor
-- (macros/incremental.sql) replaces its row (delete+insert on order_key).
with

tmall as (

    select * from {{ ref('stg_tmall__trades') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

jd as (

    select * from {{ ref('stg_jd__orders') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

douyin as (

    select * from {{ ref('stg_douyin__orders') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

shopify as (

    select * from {{ ref('stg_shopify__orders') }}
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

api_orders as (

    select channel, order_id, cast(null as varchar) as store_code, native_status, order_status,
        buyer_id, phone_raw, email_raw, province, city, goods_amount, discount_amount,
        shipping_amount, placed_at, paid_at, shipped_at, ended_at, modified_at,
        last_received_at, deliveries
    from tmall
    union all
    select channel, order_id, null, native_status, order_status, buyer_id, phone_raw, email_raw,
        province, city, goods_amount, discount_amount, shipping_amount, placed_at, paid_at,
        shipped_at, ended_at, modified_at, last_received_at, deliveries
    from jd
    union all
    select channel, order_id, null, native_status, order_status, buyer_id, phone_raw, email_raw,
        province, city, goods_amount, discount_amount, shipping_amount, placed_at, paid_at,
        shipped_at, ended_at, modified_at, last_received_at, deliveries
    from douyin
    union all
    select channel, order_id, null, native_status, order_status, buyer_id, phone_raw, email_raw,
        province, city, goods_amount, discount_amount, shipping_amount, placed_at, paid_at,
        shipped_at, ended_at, modified_at, last_received_at, deliveries
    from shopify

),

pos_orders as (

    -- a POS transaction is an order sold and handed over at the till (local wall clock)
    select
        'pos' as channel,
        transaction_id as order_id,
        max(store_code) as store_code,
        'Payment' as native_status,
        'delivered' as order_status,
        cast(null as varchar) as buyer_id,
        max(customer_phone) as phone_raw,
        cast(null as varchar) as email_raw,
        cast(null as varchar) as province,
        cast(null as varchar) as city,
        cast(sum(gross_sales) as decimal(18, 2)) as goods_amount,
        cast(-sum(discounts) as decimal(18, 2)) as discount_amount,
        cast(0 as decimal(18, 2)) as shipping_amount,
        min(sold_at_local) as sold_at_local,
        max(received_at) as last_received_at,
        count(*) as deliveries
    from pos_lines
    where not is_refund
    group by transaction_id

),

manual_orders as (

    select
        'manual' as channel,
        order_id,
        cast(null as varchar) as store_code,
        'confirmed' as native_status,
        'paid' as order_status,
        max(customer_code) as buyer_id,
        max(phone_raw) as phone_raw,
        cast(null as varchar) as email_raw,
        max(province) as province,
        max(city) as city,
        cast(sum(quantity * unit_price) as decimal(18, 2)) as goods_amount,
        cast(sum(quantity * unit_price) - sum(net_amount) as decimal(18, 2)) as discount_amount,
        cast(0 as decimal(18, 2)) as shipping_amount,
        min(order_date) as order_date,
        max(received_at) as last_received_at,
        count(*) as deliveries
    from manual_lines
    group by order_id

),

unioned as (

    select * from api_orders
    union all
    select channel, order_id, store_code, native_status, order_status, buyer_id, phone_raw,
        email_raw, province, city, goods_amount, discount_amount, shipping_amount,
        cast(sold_at_local - interval '8' hour as timestamp) at time zone 'UTC' as placed_at,
        cast(sold_at_local - interval '8' hour as timestamp) at time zone 'UTC' as paid_at,
        cast(sold_at_local - interval '8' hour as timestamp) at time zone 'UTC' as shipped_at,
        cast(sold_at_local - interval '8' hour as timestamp) at time zone 'UTC' as ended_at,
        cast(sold_at_local - interval '8' hour as timestamp) at time zone 'UTC' as modified_at,
        last_received_at, deliveries
    from pos_orders
    union all
    select channel, order_id, store_code, native_status, order_status, buyer_id, phone_raw,
        email_raw, province, city, goods_amount, discount_amount, shipping_amount,
        cast(cast(order_date as timestamp) - interval '8' hour as timestamp) at time zone 'UTC' as placed_at,
        cast(cast(order_date as timestamp) - interval '8' hour as timestamp) at time zone 'UTC' as paid_at,
        cast(null as timestamp with time zone) as shipped_at,
        cast(null as timestamp with time zone) as ended_at,
        cast(cast(order_date as timestamp) - interval '8' hour as timestamp) at time zone 'UTC' as modified_at,
        last_received_at, deliveries
    from manual_orders

),

lifecycle as (

    select
        {{ dbt_utils_surrogate('channel', 'order_id') }} as order_key,
        channel,
        order_id,
        coalesce(store_code, channel || '_online') as store_code,
        native_status,
        order_status,
        paid_at is not null as is_paid,
        order_status = 'cancelled' as is_cancelled,
        order_status = 'returned' as is_returned,
        buyer_id,
        {{ normalize_phone('phone_raw') }} as phone_normalized,
        {{ normalize_email('email_raw') }} as email_normalized,
        province,
        city,
        goods_amount,
        discount_amount,
        shipping_amount,
        cast(goods_amount - discount_amount as decimal(18, 2)) as net_merchandise_amount,
        ---------- lifecycle (UTC); reviewed/allocated are OMS steps no source exposes yet
        placed_at,
        paid_at,
        cast(null as timestamp with time zone) as reviewed_at,
        cast(null as timestamp with time zone) as allocated_at,
        coalesce(shipped_at, case when order_status in ('shipped', 'delivered') then ended_at end) as shipped_at,
        case when order_status = 'delivered' then ended_at end as delivered_at,
        case when order_status = 'returned' then ended_at end as returned_at,
        case when order_status = 'cancelled' then ended_at end as cancelled_at,
        {{ local_date('placed_at') }} as placed_date,
        modified_at,
        last_received_at,
        deliveries
    from unioned

)

select * from lifecycle
