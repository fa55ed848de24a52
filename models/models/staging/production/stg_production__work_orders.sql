with

source as (

    select * from {{ source('raw', 'production_work_orders') }}

),

renamed as (

    select
        wo_no as work_order_id,
        sku as sku,
        line as production_line,
        cast(planned_qty as integer) as planned_qty,
        cast(good_qty as integer) as good_qty,
        cast(scrap_qty as integer) as scrap_qty,
        cast(planned_start as date) as planned_start_on,
        cast(planned_end as date) as planned_end_on,
        cast(actual_start as date) as actual_start_on,
        cast(actual_end as date) as actual_end_on,
        status as work_order_status,
        warehouse as warehouse_code,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by work_order_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
