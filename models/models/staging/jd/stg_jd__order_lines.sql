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

    select * from {{ ref('stg_jd__orders') }}
    {% if is_incremental() %}
    where last_received_at > {{ received_since() }}
    {% endif %}

),

exploded as (

    select
        orders.channel,
        orders.order_id,
        orders.goods_amount as order_goods_amount,
        orders.discount_amount as order_discount_amount,
        orders.modified_at,
        orders.last_received_at,
        order_line.line
    from orders
    cross join unnest(cast(json_extract(orders.payload, '$.itemInfoList') as json[])) as order_line (line)

),

renamed as (

    select
        ---------- ids
        channel,
        order_id,
        json_extract_string(line, '$.skuId') as channel_line_id,
        row_number() over (
            partition by channel, order_id order by json_extract_string(line, '$.skuId')
        ) as line_number,
        json_extract_string(line, '$.outerSkuId') as channel_sku_code,
        json_extract_string(line, '$.skuId') as channel_sku_id,
        json_extract_string(line, '$.skuName') as item_name,

        ---------- numerics: JD gives the discount per order only; lines get their share
        cast(json_extract_string(line, '$.itemTotal') as integer) as quantity,
        {{ money("json_extract_string(line, '$.jdPrice')") }} as unit_price,
        order_goods_amount,
        order_discount_amount,
        false as is_refunded,

        modified_at,
        last_received_at

    from exploded

),

allocated as (

    -- the order's seller discount spread over its lines by gross value; the last line of
    -- the order takes the rounding remainder so lines add up to the order exactly
    select
        *,
        cast(
            case
                when line_number = count(*) over (partition by channel, order_id)
                    then order_discount_amount - coalesce(sum(
                        cast(round(order_discount_amount * quantity * unit_price / nullif(order_goods_amount, 0), 2) as decimal(18, 2))
                    ) over (
                        partition by channel, order_id order by line_number
                        rows between unbounded preceding and 1 preceding
                    ), 0)
                else cast(round(order_discount_amount * quantity * unit_price / nullif(order_goods_amount, 0), 2) as decimal(18, 2))
            end as decimal(18, 2)
        ) as discount_amount
    from renamed

),

final as (

    select
        channel,
        order_id,
        channel_line_id,
        line_number,
        channel_sku_code,
        channel_sku_id,
        item_name,
        quantity,
        unit_price,
        discount_amount,
        cast(quantity * unit_price - discount_amount as decimal(18, 2)) as net_amount,
        is_refunded,
        modified_at,
        last_received_at
    from allocated

)

select * from final
