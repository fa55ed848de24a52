with

source as (

    select * from {{ source('raw', 'procurement_receipts') }}

),

renamed as (

    select
        receipt_no as receipt_id,
        po_no as po_id,
        po_no || '-' || cast(line_no as varchar) as po_line_id,
        sku as sku,
        cast(cast(received_at as timestamp) - interval '8' hour as timestamp) at time zone 'UTC' as received_at,
        cast(received_at as date) as received_on,
        warehouse as warehouse_code,
        cast(qty_received as integer) as received_qty,
        cast(qty_accepted as integer) as accepted_qty,
        cast(qty_rejected as integer) as rejected_qty,
        inspection_id as inspection_id,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by receipt_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
