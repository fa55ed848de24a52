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

orders as (

    select * from {{ ref('stg_douyin__orders') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

exploded as (

    select
        orders.channel,
        orders.order_id,
        orders.modified_at,
        orders.last_received_at,
        order_line.line
    from orders
    cross join unnest(cast(json_extract(orders.payload, '$.sku_order_list') as json[])) as order_line (line)

),

renamed as (

    select
        ---------- ids
        channel,
        order_id,
        json_extract_string(line, '$.order_id') as channel_line_id,
        row_number() over (
            partition by channel, order_id order by json_extract_string(line, '$.order_id')
        ) as line_number,
        json_extract_string(line, '$.code') as channel_sku_code,
        json_extract_string(line, '$.sku_id') as channel_sku_id,
        json_extract_string(line, '$.product_name') as item_name,

        ---------- numerics (fen → yuan)
        cast(json_extract_string(line, '$.item_num') as integer) as quantity,
        {{ fen_to_yuan("json_extract_string(line, '$.origin_amount')") }} as unit_price,
        {{ fen_to_yuan("cast(json_extract_string(line, '$.sum_amount') as bigint) - cast(json_extract_string(line, '$.order_amount') as bigint)") }} as discount_amount,
        {{ fen_to_yuan("json_extract_string(line, '$.order_amount')") }} as net_amount,
        coalesce(cast(json_extract_string(line, '$.after_sale_info.refund_status') as integer), 0) = 3 as is_refunded,

        modified_at,
        last_received_at

    from exploded

)

select * from renamed
