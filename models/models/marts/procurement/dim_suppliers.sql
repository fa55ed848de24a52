with

suppliers as (select * from {{ ref('stg_procurement__suppliers') }}),
orders as (select * from {{ ref('fct_purchase_orders') }}),
lines as (select * from {{ ref('fct_purchase_order_lines') }}),

order_stats as (

    select supplier_code, count(*) as purchase_orders, count(*) filter (where is_delivered) as delivered_orders,
        count(*) filter (where is_on_time) as on_time_orders, sum(received_qty) as received_qty,
        sum(rejected_qty) as rejected_qty
    from orders
    group by supplier_code

),

price_stats as (

    select orders.supplier_code,
        sum(lines.unit_price * lines.ordered_qty) / nullif(sum(lines.list_price * lines.ordered_qty), 0) - 1
            as price_variance_rate
    from lines
    inner join orders on lines.po_id = orders.po_id
    group by orders.supplier_code

),

final as (

    select
        suppliers.supplier_code,
        suppliers.supplier_name,
        suppliers.province,
        suppliers.city,
        suppliers.categories,
        suppliers.lead_time_days,
        suppliers.payment_terms_days,
        coalesce(order_stats.purchase_orders, 0) as purchase_orders,
        coalesce(order_stats.delivered_orders, 0) as delivered_orders,
        coalesce(order_stats.on_time_orders, 0) as on_time_orders,
        order_stats.on_time_orders * 1.0 / nullif(order_stats.delivered_orders, 0) as on_time_rate,
        order_stats.rejected_qty * 1.0 / nullif(order_stats.received_qty, 0) as reject_rate,
        price_stats.price_variance_rate
    from suppliers
    left join order_stats on suppliers.supplier_code = order_stats.supplier_code
    left join price_stats on suppliers.supplier_code = price_stats.supplier_code

)

select * from final
