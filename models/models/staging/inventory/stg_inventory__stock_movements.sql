{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='movement_id',
        on_schema_change='fail'
    )
}}
-- Incremental: raw rows received since the cursor (macros/incremental.sql); the latest
-- receipt of a movement wins, so a re-sent movement replaces the row held (every receipt
-- later than the one held is inside the window).
with

source as (

    select * from {{ source('raw', 'inventory_stock_movements') }}
    {% if is_incremental() %}
    where _received_at > {{ received_since('_received_at') }}
    {% endif %}

),

renamed as (

    select
        movement_id as movement_id,
        cast(cast(moved_at as timestamp) - interval '8' hour as timestamp) at time zone 'UTC' as moved_at,
        cast(moved_at as date) as moved_date,
        warehouse as warehouse_code,
        sku as sku,
        movement_type as movement_type,
        cast(qty as integer) as quantity,
        reference as reference,
        _received_at as received_at,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by movement_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
