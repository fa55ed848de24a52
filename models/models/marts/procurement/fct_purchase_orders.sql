with

orders as (select * from {{ ref('stg_procurement__purchase_orders') }}),
lines as (select * from {{ ref('fct_purchase_order_lines') }}),

line_summary as (

    select
        po_id,
        count(*) as line_count,
        sum(ordered_qty) as ordered_qty,
        sum(received_qty) as received_qty,
        sum(rejected_qty) as rejected_qty,
        max(last_received_on) as last_received_on,
        cast(sum(ordered_qty * list_price) as decimal(18, 2)) as list_amount
    from lines
    group by po_id

),

final as (

    select
        orders.po_id,
        orders.supplier_code,
        orders.warehouse_code,
        orders.ordered_on,
        orders.expected_on,
        orders.po_status,
        orders.buyer,
        orders.total_amount,
        line_summary.list_amount,
        cast(orders.total_amount - line_summary.list_amount as decimal(18, 2)) as price_variance_amount,
        line_summary.line_count,
        line_summary.ordered_qty,
        coalesce(line_summary.received_qty, 0) as received_qty,
        coalesce(line_summary.rejected_qty, 0) as rejected_qty,
        line_summary.last_received_on,
        line_summary.last_received_on is not null as is_delivered,
        case when line_summary.last_received_on is not null
            then line_summary.last_received_on <= orders.expected_on end as is_on_time,
        date_diff('day', orders.ordered_on, line_summary.last_received_on) as lead_time_days
    from orders
    left join line_summary on orders.po_id = line_summary.po_id

)

select * from final
