with

lines as (select * from {{ ref('stg_procurement__purchase_order_lines') }}),
receipts as (select * from {{ ref('stg_procurement__receipts') }}),

received as (

    select po_line_id, sum(received_qty) as received_qty, sum(accepted_qty) as accepted_qty,
        sum(rejected_qty) as rejected_qty, max(received_on) as last_received_on
    from receipts
    group by po_line_id

),

final as (

    select
        lines.po_line_id,
        lines.po_id,
        lines.line_number,
        lines.sku,
        lines.ordered_qty,
        lines.unit_price,
        lines.list_price,
        lines.line_amount,
        cast((lines.unit_price - lines.list_price) * lines.ordered_qty as decimal(18, 2)) as price_variance_amount,
        (lines.unit_price - lines.list_price) / nullif(lines.list_price, 0) as price_variance_rate,
        coalesce(received.received_qty, 0) as received_qty,
        coalesce(received.accepted_qty, 0) as accepted_qty,
        coalesce(received.rejected_qty, 0) as rejected_qty,
        received.last_received_on
    from lines
    left join received on lines.po_line_id = received.po_line_id

)

select * from final
