-- Order revenue vs GL revenue per month and channel. The books post, on each month's last
-- day, Dr 1122 the gross sales (VAT included) of the orders placed that month and paid;
-- order revenue is the same measure from the orders. Rows the connectors quarantined (a
-- garbled POS/Excel row the books still hold) explain part of the difference; what remains
-- is `unexplained_difference`, which must stay within the documented tolerance.
with

orders as (select * from {{ ref('fct_orders') }}),
gl as (select * from {{ ref('fct_gl_entries') }}),
channels as (select * from {{ ref('dim_channels') }}),
quarantine as (select * from {{ source('raw', '_quarantine') }}),

order_revenue as (

    select placed_month as period_month, channel, cast(sum(revenue_amount) as decimal(18, 2)) as order_revenue
    from orders
    where is_paid
    group by 1, 2

),

sales_vouchers as (

    -- the revenue account on a sales voucher names the channel
    select gl.voucher_id, channels.channel
    from gl
    inner join channels on gl.account_code = channels.revenue_account_code
    where gl.credit_amount > 0

),

gl_gross as (

    select gl.period_month, sales_vouchers.channel, cast(sum(gl.debit_amount) as decimal(18, 2)) as gl_gross_revenue
    from gl
    inner join sales_vouchers on gl.voucher_id = sales_vouchers.voucher_id
    where gl.account_code = '1122'
    group by 1, 2

),

quarantined_rows as (

    -- rows a connector could not land, with the order they belong to and their amount;
    -- a quarantined record keeps the source's own headers (POS export, Kingdee-style Excel)
    select
        case when stream = 'pos_sales_lines' then 'pos' else 'manual' end as channel,
        coalesce(
            json_extract_string(record, '$."Transaction ID"'),
            json_extract_string(record, '$."订单号"')
        ) as order_id,
        coalesce(
            json_extract_string(record, '$."Date"'),
            json_extract_string(record, '$."下单日期"')
        ) as date_text,
        try_cast(regexp_replace(coalesce(
            json_extract_string(record, '$."Net Sales"'),
            json_extract_string(record, '$."金额"')
        ), '[^0-9.-]', '', 'g') as decimal(18, 2)) as amount
    from quarantine
    where stream in ('pos_sales_lines', 'manual_orders')
        and coalesce(json_extract_string(record, '$."Event Type"'), 'Payment') = 'Payment'
        and regexp_matches(coalesce(
            json_extract_string(record, '$."Net Sales"'),
            json_extract_string(record, '$."金额"'),
            ''
        ), '[0-9]')

),

quarantined_placed as (

    -- the month is the month of the row's order when its other lines landed, else the date
    -- the row names if that is a real date; a garbled date (2025-02-31) names no month
    select
        coalesce(
            orders.placed_month,
            cast(date_trunc('month', try_cast(quarantined_rows.date_text as date)) as date)
        ) as period_month,
        quarantined_rows.channel,
        quarantined_rows.amount
    from quarantined_rows
    left join orders
        on quarantined_rows.channel = orders.channel
        and quarantined_rows.order_id = orders.order_id
        and quarantined_rows.order_id <> ''

),

quarantined as (

    select
        period_month,
        channel,
        cast(sum(amount) as decimal(18, 2)) as quarantined_revenue,
        count(*) as quarantined_rows
    from quarantined_placed
    where period_month is not null
    group by 1, 2

),

unplaced as (

    -- quarantined revenue that cannot be put in any month: any month of its channel may
    -- differ by up to this much
    select channel, cast(sum(amount) as decimal(18, 2)) as unplaced_revenue
    from quarantined_placed
    where period_month is null
    group by 1

),

joined as (

    select
        coalesce(gl_gross.period_month, order_revenue.period_month) as period_month,
        coalesce(gl_gross.channel, order_revenue.channel) as channel,
        coalesce(order_revenue.order_revenue, 0) as order_revenue,
        coalesce(gl_gross.gl_gross_revenue, 0) as gl_gross_revenue,
        coalesce(quarantined.quarantined_revenue, 0) as quarantined_revenue,
        coalesce(quarantined.quarantined_rows, 0) as quarantined_rows,
        coalesce(unplaced.unplaced_revenue, 0) as channel_unplaced_revenue
    from gl_gross
    full outer join order_revenue
        on gl_gross.period_month = order_revenue.period_month
        and gl_gross.channel = order_revenue.channel
    left join quarantined
        on coalesce(gl_gross.period_month, order_revenue.period_month) = quarantined.period_month
        and coalesce(gl_gross.channel, order_revenue.channel) = quarantined.channel
    left join unplaced
        on coalesce(gl_gross.channel, order_revenue.channel) = unplaced.channel

),

final as (

    select
        {{ dbt_utils_surrogate('period_month', 'channel') }} as reconciliation_id,
        period_month,
        channel,
        order_revenue,
        gl_gross_revenue,
        quarantined_revenue,
        quarantined_rows,
        channel_unplaced_revenue,
        cast(gl_gross_revenue - order_revenue as decimal(18, 2)) as difference,
        cast(gl_gross_revenue - order_revenue - quarantined_revenue as decimal(18, 2)) as unexplained_difference,
        abs(gl_gross_revenue - order_revenue - quarantined_revenue)
            <= {{ var('revenue_tolerance_abs', 1.00) }}
            + channel_unplaced_revenue
            + case when channel in ('pos', 'manual')
                then {{ var('revenue_tolerance_rel_files', 0.02) }}
                else 0 end * abs(gl_gross_revenue) as is_within_tolerance
    from joined

)

select * from final
