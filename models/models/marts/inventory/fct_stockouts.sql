-- One row per stockout spell: consecutive days a SKU had nothing on hand in a warehouse.
with

daily as (select * from {{ ref('fct_inventory_daily') }}),

flagged as (

    select
        *,
        row_number() over (partition by warehouse_code, sku order by snapshot_date)
        - row_number() over (partition by warehouse_code, sku, is_stockout order by snapshot_date) as spell
    from daily

),

spells as (

    select warehouse_code, sku, min(snapshot_date) as started_on, max(snapshot_date) as last_day_on,
        count(*) as stockout_days
    from flagged
    where is_stockout
    group by warehouse_code, sku, spell

),

final as (

    select {{ dbt_utils_surrogate('warehouse_code', 'sku', 'started_on') }} as stockout_id, *
    from spells

)

select * from final
