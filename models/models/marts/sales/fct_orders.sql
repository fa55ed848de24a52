with

orders as (select * from {{ ref('int_orders') }}),
lines as (select * from {{ ref('fct_order_lines') }}),
identities as (select * from {{ ref('int_customer_identities') }}),

line_summary as (

    select
        order_key,
        count(*) as line_count,
        sum(quantity) as item_quantity,
        count(*) filter (where sku is null) as unmapped_line_count,
        cast(sum(net_amount) as decimal(18, 2)) as lines_net_amount,
        cast(sum(standard_cost_amount) as decimal(18, 2)) as standard_cost_amount
    from lines
    group by order_key

),

joined as (

    select
        orders.order_key,
        orders.channel,
        orders.order_id,
        orders.store_code,
        identities.customer_id,
        orders.order_status,
        orders.native_status,
        orders.is_paid,
        orders.is_cancelled,
        orders.is_returned,
        orders.province,
        orders.city,
        orders.placed_at,
        orders.paid_at,
        orders.reviewed_at,
        orders.allocated_at,
        orders.shipped_at,
        orders.delivered_at,
        orders.returned_at,
        orders.cancelled_at,
        orders.placed_date,
        cast(date_trunc('month', orders.placed_date) as date) as placed_month,
        orders.goods_amount,
        orders.discount_amount,
        orders.shipping_amount,
        orders.net_merchandise_amount,
        case when orders.is_paid then orders.net_merchandise_amount else 0 end as revenue_amount,
        coalesce(line_summary.line_count, 0) as line_count,
        coalesce(line_summary.item_quantity, 0) as item_quantity,
        coalesce(line_summary.unmapped_line_count, 0) as unmapped_line_count,
        line_summary.lines_net_amount,
        line_summary.standard_cost_amount,
        case when orders.is_paid then orders.net_merchandise_amount - line_summary.standard_cost_amount end
            as gross_margin_amount,
        ---------- OMS measures
        date_diff('second', orders.paid_at, orders.shipped_at) / 3600.0 as processing_hours,
        case
            when orders.shipped_at is null or orders.paid_at is null then null
            else orders.shipped_at <= orders.paid_at + interval '48' hour
        end as is_shipped_on_time,
        -- accurate: every line maps to a catalog SKU, lines add up to the order, not returned
        coalesce(line_summary.unmapped_line_count, 0) = 0
            and line_summary.lines_net_amount = orders.net_merchandise_amount
            and not orders.is_returned as is_accurate,
        orders.deliveries as raw_deliveries,
        orders.modified_at
    from orders
    left join line_summary on orders.order_key = line_summary.order_key
    left join identities on orders.order_key = identities.order_key

)

select * from joined
