with

lines as (

    select * from {{ ref('stg_pos__sales_lines') }}

),

daily as (

    select
        sales_date,
        store_code,
        'pos' as channel,
        count(distinct transaction_id) filter (where not is_refund) as order_count,
        count(*) as line_count,
        sum(quantity) as quantity,
        sum(net_sales) filter (where not is_refund) as gross_net_sales,
        -sum(net_sales) filter (where is_refund) as refund_amount,
        sum(net_sales) as net_sales

    from lines
    group by 1, 2, 3

),

final as (

    select
        {{ dbt_utils_surrogate('sales_date', 'store_code') }} as pos_daily_sales_id,
        sales_date,
        store_code,
        -- the store master (catalog) replaces the code with the store's name once joined in
        store_code as store_name,
        channel,
        order_count,
        line_count,
        quantity,
        cast(coalesce(gross_net_sales, 0) as decimal(18, 2)) as gross_net_sales,
        cast(coalesce(refund_amount, 0) as decimal(18, 2)) as refund_amount,
        cast(net_sales as decimal(18, 2)) as net_sales

    from daily

)

select * from final
