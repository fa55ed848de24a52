-- Stock per SKU × warehouse × day: on hand (the WMS snapshot), reserved (units of paid
-- online orders not yet shipped, held in the central warehouse that fulfils online orders),
-- available-to-promise = max(on hand − reserved, 0), and the safety-stock position.
with

snapshots as (select * from {{ ref('stg_inventory__stock_snapshots') }}),
safety as (select * from {{ ref('stg_inventory__safety_stock') }}),
warehouses as (select * from {{ ref('stg_inventory__warehouses') }}),
lines as (select * from {{ ref('fct_order_lines') }}),

reservation_events as (

    -- +qty the day an online order is paid, −qty the day it ships or closes
    select sku, {{ local_date('paid_at') }} as event_date, quantity as qty_change
    from lines
    where is_paid and channel not in ('pos', 'manual') and sku is not null
    union all
    select sku, {{ local_date('shipped_at') }}, -quantity
    from lines
    where is_paid and channel not in ('pos', 'manual') and sku is not null and shipped_at is not null

),

reservation_daily as (

    select sku, event_date, sum(qty_change) as qty_change
    from reservation_events
    where event_date is not null
    group by 1, 2

),

central as (

    select min(warehouse_code) as warehouse_code from warehouses where warehouse_kind = 'central'

),

reservation_timeline as (

    -- one sorted timeline per SKU: the reservation changes and the central warehouse's
    -- snapshot days; a snapshot's reservation is the running sum of every change up to and
    -- including its day (changes sort before the snapshot of the same day). A running
    -- window is O(n log n); a range join to "valid from/to" intervals degenerates into a
    -- nested loop join (snapshots × intervals) and took minutes at 100k orders.
    select sku, event_date as timeline_date, 0 as is_snapshot, qty_change
    from reservation_daily
    union all
    select sku, snapshot_date, 1, 0
    from snapshots
    where warehouse_code in (select warehouse_code from central)

),

reserved_on_snapshot_days as (

    select central.warehouse_code, running.sku, running.snapshot_date, running.reserved_running
    from (
        select
            sku,
            timeline_date as snapshot_date,
            is_snapshot,
            sum(qty_change) over (
                partition by sku order by timeline_date, is_snapshot
                rows between unbounded preceding and current row
            ) as reserved_running
        from reservation_timeline
    ) as running
    cross join central
    where running.is_snapshot = 1

),

with_reserved as (

    select
        snapshots.snapshot_date,
        snapshots.warehouse_code,
        snapshots.sku,
        snapshots.on_hand_qty,
        coalesce(reserved.reserved_running, 0) as reserved_qty_raw
    from snapshots
    left join reserved_on_snapshot_days as reserved
        on snapshots.warehouse_code = reserved.warehouse_code
        and snapshots.sku = reserved.sku
        and snapshots.snapshot_date = reserved.snapshot_date

),

final as (

    select
        {{ dbt_utils_surrogate('with_reserved.snapshot_date', 'with_reserved.warehouse_code', 'with_reserved.sku') }} as inventory_daily_id,
        with_reserved.snapshot_date,
        with_reserved.warehouse_code,
        with_reserved.sku,
        with_reserved.on_hand_qty,
        greatest(with_reserved.reserved_qty_raw, 0) as reserved_qty,
        greatest(with_reserved.on_hand_qty - greatest(with_reserved.reserved_qty_raw, 0), 0) as available_to_promise_qty,
        coalesce(safety.safety_qty, 0) as safety_qty,
        with_reserved.on_hand_qty < coalesce(safety.safety_qty, 0) as is_below_safety_stock,
        with_reserved.on_hand_qty <= 0 as is_stockout
    from with_reserved
    left join safety
        on with_reserved.warehouse_code = safety.warehouse_code
        and with_reserved.sku = safety.sku

)

select * from final
