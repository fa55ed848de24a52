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

    select * from {{ source('raw', 'douyin_orders') }}
    {% if is_incremental() %}
    where order_id in (
        select order_id from {{ source('raw', 'douyin_orders') }}
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
            when status = '1' then 'placed'
            when status in ('105', '2') then 'paid'
            when status in ('101', '3') then 'shipped'
            when status = '5' then 'delivered'
            when status = '4' and coalesce(cast(json_extract_string(payload, '$.pay_time') as bigint), 0) > 0
                then 'returned'
            when status = '4' then 'cancelled'
            else 'placed'
        end as order_status,
        json_extract_string(payload, '$.post_tel') as phone_raw,
        cast(null as varchar) as email_raw,
        json_extract_string(payload, '$.post_addr.province.name') as province,
        json_extract_string(payload, '$.post_addr.city.name') as city,

        ---------- numerics: Douyin sends integer fen; kept as *_fen next to yuan
        cast(json_extract_string(payload, '$.order_amount') as bigint) as order_amount_fen,
        {{ fen_to_yuan("cast(json_extract_string(payload, '$.order_amount') as bigint) - cast(json_extract_string(payload, '$.post_amount') as bigint) + cast(json_extract_string(payload, '$.promotion_amount') as bigint)") }} as goods_amount,
        {{ fen_to_yuan("json_extract_string(payload, '$.promotion_amount')") }} as discount_amount,
        {{ fen_to_yuan("json_extract_string(payload, '$.post_amount')") }} as shipping_amount,
        {{ fen_to_yuan("json_extract_string(payload, '$.pay_amount')") }} as payment_amount,

        ---------- timestamps (Unix seconds, 0 = unset → UTC)
        {{ epoch_to_utc("cast(json_extract_string(payload, '$.create_time') as bigint)") }} as placed_at,
        {{ epoch_to_utc("cast(json_extract_string(payload, '$.pay_time') as bigint)") }} as paid_at,
        {{ epoch_to_utc("cast(json_extract_string(payload, '$.ship_time') as bigint)") }} as shipped_at,
        {{ epoch_to_utc("cast(json_extract_string(payload, '$.finish_time') as bigint)") }} as ended_at,
        modified_at,
        last_received_at,
        deliveries,

        payload

    from latest

)

select * from renamed
