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

    select * from {{ source('raw', 'jd_orders') }}
    {% if is_incremental() %}
    where order_id in (
        select order_id from {{ source('raw', 'jd_orders') }}
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
        cast(null as varchar) as buyer_id,

        ---------- attributes
        status as native_status,
        case
            when status = 'TRADE_CANCELED'
                and {{ cst_text_to_utc("json_extract_string(payload, '$.paymentConfirmTime')") }} is not null
                then 'returned'
            when status = 'TRADE_CANCELED' then 'cancelled'
            when status in ('WAIT_SELLER_STOCK_OUT', 'WAIT_SELLER_DELIVERY')
                and {{ cst_text_to_utc("json_extract_string(payload, '$.paymentConfirmTime')") }} is null
                then 'placed'
            when status in ('WAIT_SELLER_STOCK_OUT', 'WAIT_SELLER_DELIVERY') then 'paid'
            when status = 'WAIT_GOODS_RECEIVE_CONFIRM' then 'shipped'
            when status = 'FINISHED_L' then 'delivered'
            else 'placed'
        end as order_status,
        json_extract_string(payload, '$.consigneeInfo.mobile') as phone_raw,
        cast(null as varchar) as email_raw,
        json_extract_string(payload, '$.consigneeInfo.province') as province,
        json_extract_string(payload, '$.consigneeInfo.city') as city,

        ---------- numerics (yuan, decimal strings)
        {{ money("json_extract_string(payload, '$.orderTotalPrice')") }} as goods_amount,
        {{ money("json_extract_string(payload, '$.sellerDiscount')") }} as discount_amount,
        {{ money("json_extract_string(payload, '$.freightPrice')") }} as shipping_amount,
        {{ money("json_extract_string(payload, '$.orderPayment')") }} as payment_amount,

        ---------- timestamps (GMT+8 text, zero dates = unset → UTC)
        {{ cst_text_to_utc("json_extract_string(payload, '$.orderStartTime')") }} as placed_at,
        {{ cst_text_to_utc("json_extract_string(payload, '$.paymentConfirmTime')") }} as paid_at,
        cast(null as timestamp with time zone) as shipped_at,
        {{ cst_text_to_utc("json_extract_string(payload, '$.orderEndTime')") }} as ended_at,
        modified_at,
        last_received_at,
        deliveries,

        payload

    from latest

)

select * from renamed
