with

source as (

    select * from {{ source('raw', 'catalog_channel_sku_map') }}

),

renamed as (

    select
        channel as channel,
        master_sku as sku,
        cast(channel_product_id as varchar) as channel_product_id,
        cast(channel_sku_id as varchar) as channel_sku_id,
        cast(channel_sku_code as varchar) as channel_sku_code,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by channel, channel_sku_code order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
