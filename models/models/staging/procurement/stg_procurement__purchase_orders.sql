with

source as (

    select * from {{ source('raw', 'procurement_purchase_orders') }}

),

renamed as (

    select
        po_no as po_id,
        supplier_code as supplier_code,
        cast(order_date as date) as ordered_on,
        cast(expected_date as date) as expected_on,
        warehouse as warehouse_code,
        status as po_status,
        buyer as buyer,
        currency as currency,
        {{ money('total_amount') }} as total_amount,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by po_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
