{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_id',
        on_schema_change='fail'
    )
}}
-- Incremental: an order with any raw version received since the cursor
-- (macros/incremental.sql) is rebuilt from all its versions; other orders' payloads are
-- not parsed again.
with

source as (

    select * from {{ source('raw', 'shopify_orders') }}
    {% if is_incremental() %}
    where order_id in (
        select order_id from {{ source('raw', 'shopify_orders') }}
        where _received_at > {{ received_since() }}
    )
    {% endif %}

),

latest as (

    -- raw keeps every delivery of every version: the latest modified time wins, exact
    -- duplicate deliveries of it collapse to one row (macros/latest_delivery.sql)
    {{ latest_delivery('source') }}

),

renamed as (

    select
        ---------- ids
        channel,
        order_id,
        json_extract_string(payload, '$.customer.id') as buyer_id,

        ---------- attributes
        json_extract_string(payload, '$.financial_status') || '/'
            || coalesce(json_extract_string(payload, '$.fulfillment_status'), 'unfulfilled')
            as native_status,
        case
            when json_extract_string(payload, '$.financial_status') = 'voided' then 'cancelled'
            when json_extract_string(payload, '$.financial_status') in ('refunded', 'partially_refunded')
                then 'returned'
            when json_extract_string(payload, '$.financial_status') in ('pending', 'authorized')
                then 'placed'
            when json_extract_string(payload, '$.fulfillment_status') = 'fulfilled'
                and json_extract_string(payload, '$.closed_at') is not null then 'delivered'
            when json_extract_string(payload, '$.fulfillment_status') in ('fulfilled', 'partial')
                then 'shipped'
            else 'paid'
        end as order_status,
        json_extract_string(payload, '$.phone') as phone_raw,
        json_extract_string(payload, '$.email') as email_raw,
        json_extract_string(payload, '$.shipping_address.province') as province,
        json_extract_string(payload, '$.shipping_address.city') as city,

        ---------- numerics (shop currency CNY, decimal strings)
        {{ money("json_extract_string(payload, '$.total_line_items_price')") }} as goods_amount,
        {{ money("json_extract_string(payload, '$.total_discounts')") }} as discount_amount,
        {{ money("json_extract_string(payload, '$.total_shipping_price_set.shop_money.amount')") }} as shipping_amount,
        {{ money("json_extract_string(payload, '$.total_price')") }} as payment_amount,

        ---------- timestamps (ISO 8601 with offset → UTC)
        cast(json_extract_string(payload, '$.created_at') as timestamp with time zone) as placed_at,
        case
            when json_extract_string(payload, '$.financial_status') in ('paid', 'refunded', 'partially_refunded', 'partially_paid')
                then cast(json_extract_string(payload, '$.processed_at') as timestamp with time zone)
        end as paid_at,
        cast(null as timestamp with time zone) as shipped_at,
        coalesce(
            cast(json_extract_string(payload, '$.cancelled_at') as timestamp with time zone),
            cast(json_extract_string(payload, '$.closed_at') as timestamp with time zone)
        ) as ended_at,
        modified_at,
        last_received_at,
        deliveries,

        payload

    from latest

)

select * from renamed
