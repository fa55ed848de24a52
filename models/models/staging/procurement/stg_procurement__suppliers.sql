with

source as (

    select * from {{ source('raw', 'procurement_suppliers') }}

),

renamed as (

    select
        supplier_code as supplier_code,
        name as supplier_name,
        province as province,
        city as city,
        categories as categories,
        cast(lead_time_days as integer) as lead_time_days,
        cast(payment_terms_days as integer) as payment_terms_days,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by supplier_code order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
