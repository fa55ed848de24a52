with

source as (

    select * from {{ source('raw', 'manual_orders') }}

),

renamed as (

    select
        ---------- ids
        'manual' as channel,
        cast(order_no as varchar) as order_id,
        cast(customer_code as varchar) as customer_code,
        cast(sku as varchar) as channel_sku_code,
        cast(source_line as integer) as source_row,

        ---------- attributes
        customer_name,
        contact as contact_name,
        cast(phone as varchar) as phone_raw,
        province,
        city,
        product_name as item_name,
        sales_rep as salesperson,
        payment_method,

        ---------- numerics (yuan)
        cast(quantity as integer) as quantity,
        {{ money('unit_price') }} as unit_price,
        {{ money('coalesce(discount, 0)') }} as discount_amount,
        {{ money('amount') }} as net_amount,

        ---------- dates (keyed in by hand, company local date)
        cast(order_date as date) as order_date,
        _received_at as received_at

    from source

),

deduplicated as (

    -- a workbook re-imported lands its rows again: one row per order and sheet row
    select *
    from (
        select
            *,
            row_number() over (
                partition by order_id, source_row order by received_at desc
            ) as row_rank
        from renamed
    ) as ranked
    where row_rank = 1

)

select * from deduplicated
