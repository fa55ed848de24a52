with

orders as (select * from {{ ref('fct_orders') }}),
pos_lines as (select * from {{ ref('stg_pos__sales_lines') }}),

online_returns as (

    select
        order_key as return_id,
        order_key,
        channel,
        order_id,
        store_code,
        returned_at,
        {{ local_date('returned_at') }} as returned_date,
        revenue_amount as refund_amount,
        shipped_at is not null as is_after_shipment
    from orders
    where is_returned and is_paid

),

store_refunds as (

    select
        {{ dbt_utils_surrogate("'pos'", 'transaction_id', "'refund'") }} as return_id,
        {{ dbt_utils_surrogate("'pos'", 'transaction_id') }} as order_key,
        'pos' as channel,
        transaction_id as order_id,
        max(store_code) as store_code,
        cast(min(sold_at_local) - interval '8' hour as timestamp) at time zone 'UTC' as returned_at,
        min(sales_date) as returned_date,
        cast(-sum(net_sales) as decimal(18, 2)) as refund_amount,
        true as is_after_shipment
    from pos_lines
    where is_refund
    group by transaction_id

),

final as (

    select * from online_returns
    union all
    select * from store_refunds

)

select * from final
