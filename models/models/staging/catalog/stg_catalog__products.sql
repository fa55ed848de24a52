with

source as (

    select * from {{ source('raw', 'catalog_products') }}

),

renamed as (

    select
        sku as sku,
        name as product_name,
        category_code as category_code,
        category as category,
        spec as spec,
        color as color,
        {{ money('list_price') }} as list_price,
        {{ money('standard_cost') }} as standard_cost,
        sourcing as sourcing,
        supplier_code as supplier_code,
        cast(barcode as varchar) as barcode,
        cast(launch_date as date) as launched_on,
        cast(discontinued_date as date) as discontinued_on,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by sku order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
