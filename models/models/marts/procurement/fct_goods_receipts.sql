with

receipts as (select * from {{ ref('stg_procurement__receipts') }}),
orders as (select * from {{ ref('stg_procurement__purchase_orders') }}),

final as (

    select
        receipts.receipt_id,
        receipts.po_id,
        receipts.po_line_id,
        orders.supplier_code,
        receipts.sku,
        receipts.warehouse_code,
        receipts.received_at,
        receipts.received_on,
        orders.expected_on,
        receipts.received_on <= orders.expected_on as is_on_time,
        receipts.received_qty,
        receipts.accepted_qty,
        receipts.rejected_qty,
        receipts.rejected_qty * 1.0 / nullif(receipts.received_qty, 0) as reject_rate,
        receipts.inspection_id
    from receipts
    left join orders on receipts.po_id = orders.po_id

)

select * from final
