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

    select * from {{ ref('stg_shopify__orders') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

exploded as (

    select
        orders.channel,
        orders.order_id,
        orders.order_status,
        orders.modified_at,
        orders.last_received_at,
        order_line.line
    from orders
    cross join unnest(cast(json_extract(orders.payload, '$.line_items') as json[])) as order_line (line)

),

renamed as (

    select
        ---------- ids
        channel,
        order_id,
        json_extract_string(line, '$.id') as channel_line_id,
        row_number() over (
            partition by channel, order_id order by json_extract_string(line, '$.id')
        ) as line_number,
        json_extract_string(line, '$.sku') as channel_sku_code,
        json_extract_string(line, '$.variant_id') as channel_sku_id,
        json_extract_string(line, '$.title') as item_name,

        ---------- numerics
        cast(json_extract_string(line, '$.quantity') as integer) as quantity,
        {{ money("json_extract_string(line, '$.price')") }} as unit_price,
        {{ money("json_extract_string(line, '$.total_discount')") }} as discount_amount,
        cast(
            cast(json_extract_string(line, '$.quantity') as integer)
            * {{ money("json_extract_string(line, '$.price')") }}
            - {{ money("json_extract_string(line, '$.total_discount')") }}
            as decimal(18, 2)
        ) as net_amount,
        order_status = 'returned' as is_refunded,

        modified_at,
        last_received_at

    from exploded

)

select * from renamed
