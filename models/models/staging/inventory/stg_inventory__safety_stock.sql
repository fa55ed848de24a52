with

source as (

    select * from {{ source('raw', 'inventory_safety_stock') }}

),

renamed as (

    select
        warehouse as warehouse_code,
        sku as sku,
        cast(safety_qty as integer) as safety_qty,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by warehouse_code, sku order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
