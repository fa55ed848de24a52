with

daily as (select * from {{ ref('fct_inventory_daily') }}),

final as (

    select inventory_daily_id as breach_id, snapshot_date, warehouse_code, sku, on_hand_qty,
        safety_qty, safety_qty - on_hand_qty as shortfall_qty
    from daily
    where is_below_safety_stock

)

select * from final
