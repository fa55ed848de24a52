with

source as (

    select * from {{ source('raw', 'catalog_stores') }}

),

renamed as (

    select
        store_code as store_code,
        name as store_name,
        province as province,
        city as city,
        warehouse as warehouse_code,
        cast(opened_on as date) as opened_on,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by store_code order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
