with

orders as (select * from {{ ref('fct_orders') }}),

final as (

    select
        order_key as shipment_id,
        order_key,
        channel,
        order_id,
        store_code,
        shipped_at,
        delivered_at,
        {{ local_date('shipped_at') }} as shipped_date,
        processing_hours,
        is_shipped_on_time,
        date_diff('second', shipped_at, delivered_at) / 86400.0 as transit_days
    from orders
    where shipped_at is not null

)

select * from final
