with

source as (

    select * from {{ source('raw', 'procurement_purchase_order_lines') }}

),

renamed as (

    select
        po_no || '-' || cast(line_no as varchar) as po_line_id,
        po_no as po_id,
        cast(line_no as integer) as line_number,
        sku as sku,
        cast(qty as integer) as ordered_qty,
        {{ money('unit_price') }} as unit_price,
        {{ money('list_price') }} as list_price,
        {{ money('amount') }} as line_amount,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by po_line_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
