-- Per SKU × warehouse × month: units shipped out (sales), average on hand, turnover
-- (units out / average on hand) and days of inventory (average on hand / units out per day).
with

daily as (select * from {{ ref('fct_inventory_daily') }}),
movements as (select * from {{ ref('fct_stock_movements') }}),

stock as (

    select cast(date_trunc('month', snapshot_date) as date) as month, warehouse_code, sku,
        avg(on_hand_qty) as avg_on_hand_qty, count(*) as days_in_month
    from daily
    group by 1, 2, 3

),

sales as (

    select moved_month as month, warehouse_code, sku, sum(outbound_qty) as units_sold
    from movements
    where movement_type = 'sale'
    group by 1, 2, 3

),

final as (

    select
        {{ dbt_utils_surrogate('stock.month', 'stock.warehouse_code', 'stock.sku') }} as inventory_turnover_id,
        stock.month,
        stock.warehouse_code,
        stock.sku,
        stock.avg_on_hand_qty,
        coalesce(sales.units_sold, 0) as units_sold,
        coalesce(sales.units_sold, 0) / nullif(stock.avg_on_hand_qty, 0) as turnover,
        stock.avg_on_hand_qty / nullif(coalesce(sales.units_sold, 0) / stock.days_in_month, 0) as days_of_inventory
    from stock
    left join sales
        on stock.month = sales.month and stock.warehouse_code = sales.warehouse_code and stock.sku = sales.sku

)

select * from final
