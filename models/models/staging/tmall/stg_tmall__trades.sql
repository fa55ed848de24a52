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

    select * from {{ source('raw', 'tmall_trades') }}
    {% if is_incremental() %}
    where order_id in (
        select order_id from {{ source('raw', 'tmall_trades') }}
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
        json_extract_string(payload, '$.buyer_open_uid') as buyer_id,

        ---------- attributes
        status as native_status,
        case status
            when 'WAIT_BUYER_PAY' then 'placed'
            when 'TRADE_NO_CREATE_PAY' then 'placed'
            when 'WAIT_SELLER_SEND_GOODS' then 'paid'
            when 'SELLER_CONSIGNED_PART' then 'shipped'
            when 'WAIT_BUYER_CONFIRM_GOODS' then 'shipped'
            when 'TRADE_BUYER_SIGNED' then 'delivered'
            when 'TRADE_FINISHED' then 'delivered'
            when 'TRADE_CLOSED' then 'returned'
            when 'TRADE_CLOSED_BY_TAOBAO' then 'cancelled'
            else 'placed'
        end as order_status,
        json_extract_string(payload, '$.receiver_mobile') as phone_raw,
        cast(null as varchar) as email_raw,
        json_extract_string(payload, '$.receiver_state') as province,
        json_extract_string(payload, '$.receiver_city') as city,

        ---------- numerics (yuan, decimal strings)
        {{ money("json_extract_string(payload, '$.total_fee')") }} as goods_amount,
        {{ money("json_extract_string(payload, '$.discount_fee')") }} as discount_amount,
        {{ money("json_extract_string(payload, '$.post_fee')") }} as shipping_amount,
        {{ money("json_extract_string(payload, '$.payment')") }} as payment_amount,

        ---------- timestamps (native GMT+8 text → UTC)
        {{ cst_text_to_utc("json_extract_string(payload, '$.created')") }} as placed_at,
        {{ cst_text_to_utc("json_extract_string(payload, '$.pay_time')") }} as paid_at,
        {{ cst_text_to_utc("json_extract_string(payload, '$.consign_time')") }} as shipped_at,
        {{ cst_text_to_utc("json_extract_string(payload, '$.end_time')") }} as ended_at,
        modified_at,
        last_received_at,
        deliveries,

        payload

    from latest

)

select * from renamed
