-- Revenue per month and channel, from the orders (paid orders' net merchandise value, VAT
-- included, by the month the order was placed) and from the GL (6001.0x, VAT excluded).
with

orders as (select * from {{ ref('fct_orders') }}),
gl as (select * from {{ ref('fct_gl_entries') }}),
channels as (select * from {{ ref('dim_channels') }}),

order_revenue as (

    select placed_month as period_month, channel, cast(sum(revenue_amount) as decimal(18, 2)) as order_revenue,
        count(*) filter (where is_paid) as paid_orders
    from orders
    group by 1, 2

),

gl_revenue as (

    select gl.period_month, channels.channel,
        cast(sum(gl.credit_amount - gl.debit_amount) as decimal(18, 2)) as gl_revenue_excl_vat
    from gl
    inner join channels on gl.account_code = channels.revenue_account_code
    group by 1, 2

),

final as (

    select
        {{ dbt_utils_surrogate('coalesce(order_revenue.period_month, gl_revenue.period_month)', 'coalesce(order_revenue.channel, gl_revenue.channel)') }} as revenue_period_id,
        coalesce(order_revenue.period_month, gl_revenue.period_month) as period_month,
        coalesce(order_revenue.channel, gl_revenue.channel) as channel,
        coalesce(order_revenue.order_revenue, 0) as order_revenue,
        coalesce(order_revenue.paid_orders, 0) as paid_orders,
        coalesce(gl_revenue.gl_revenue_excl_vat, 0) as gl_revenue_excl_vat
    from order_revenue
    full outer join gl_revenue
        on order_revenue.period_month = gl_revenue.period_month
        and order_revenue.channel = gl_revenue.channel

)

select * from final
