{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_id',
        on_schema_change='fail'
    )
}}
-- Incremental: the lines of every order whose latest version was rebuilt since the cursor
-- replace that order's lines (delete+insert on order_id).
with

trades as (

    select * from {{ ref('stg_tmall__trades') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

exploded as (

    select
        trades.channel,
        trades.order_id,
        trades.modified_at,
        trades.last_received_at,
        order_line.line
    from trades
    cross join unnest(cast(json_extract(trades.payload, '$.orders.order') as json[])) as order_line (line)

),

renamed as (

    select
        ---------- ids
        channel,
        order_id,
        json_extract_string(line, '$.oid_str') as channel_line_id,
        row_number() over (
            partition by channel, order_id order by json_extract_string(line, '$.oid_str')
        ) as line_number,
        json_extract_string(line, '$.outer_sku_id') as channel_sku_code,
        json_extract_string(line, '$.sku_id') as channel_sku_id,
        json_extract_string(line, '$.title') as item_name,

        ---------- numerics
        cast(json_extract_string(line, '$.num') as integer) as quantity,
        {{ money("json_extract_string(line, '$.price')") }} as unit_price,
        {{ money("json_extract_string(line, '$.discount_fee')") }} as discount_amount,
        {{ money("json_extract_string(line, '$.divide_order_fee')") }} as net_amount,
        json_extract_string(line, '$.refund_status') = 'SUCCESS' as is_refunded,

        modified_at,
        last_received_at

    from exploded

)

select * from renamed
