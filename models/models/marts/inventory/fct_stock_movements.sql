{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='movement_id',
        on_schema_change='fail'
    )
}}
-- Movements are immutable once booked; a re-sent file re-lands them (staging keeps one).
-- Incremental runs take what arrived since the cursor (macros/incremental.sql).
with

movements as (select * from {{ ref('stg_inventory__stock_movements') }}),

final as (

    select
        movement_id,
        moved_at,
        moved_date,
        cast(date_trunc('month', moved_date) as date) as moved_month,
        warehouse_code,
        sku,
        movement_type,
        quantity,
        case when quantity > 0 then quantity else 0 end as inbound_qty,
        case when quantity < 0 then -quantity else 0 end as outbound_qty,
        reference,
        _received_at as received_at
    from movements
    {% if is_incremental() %}
    where _received_at > {{ received_since('received_at') }}
    {% endif %}

)

select * from final
