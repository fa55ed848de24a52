with

source as (

    select * from {{ source('raw', 'quality_inspections') }}

),

renamed as (

    select
        inspection_id as inspection_id,
        type as inspection_type,
        ref_no as reference_id,
        sku as sku,
        cast(cast(inspected_at as timestamp) - interval '8' hour as timestamp) at time zone 'UTC' as inspected_at,
        cast(inspected_at as date) as inspected_on,
        cast(lot_qty as integer) as lot_qty,
        cast(sample_size as integer) as sample_size,
        cast(defect_qty as integer) as defect_qty,
        result as inspection_result,
        defect_type as defect_type,
        inspector as inspector,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by inspection_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
