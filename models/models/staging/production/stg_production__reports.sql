with

source as (

    select * from {{ source('raw', 'production_production_reports') }}

),

renamed as (

    select
        report_id as production_report_id,
        wo_no as work_order_id,
        cast(report_date as date) as reported_on,
        line as production_line,
        shift as shift,
        sku as sku,
        cast(output_qty as integer) as output_qty,
        cast(good_qty as integer) as good_qty,
        cast(scrap_qty as integer) as scrap_qty,
        cast(operator as varchar) as operator_id,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by production_report_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
