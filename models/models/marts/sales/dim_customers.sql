with

identities as (select * from {{ ref('int_customer_identities') }}),
orders as (select * from {{ ref('fct_orders') }}),

per_customer as (

    select
        identities.customer_id,
        max(identities.matched_on) as matched_on,
        max(identities.phone_hash) as phone_hash,
        max(identities.email_hash) as email_hash,
        count(distinct orders.channel) as channel_count,
        count(*) as order_count,
        count(*) filter (where orders.is_paid) as paid_order_count,
        cast(sum(orders.revenue_amount) as decimal(18, 2)) as lifetime_revenue,
        min(orders.placed_date) as first_order_date,
        max(orders.placed_date) as last_order_date,
        min(orders.channel) as first_channel
    from identities
    inner join orders on identities.order_key = orders.order_key
    where identities.customer_id is not null
    group by identities.customer_id

),

as_of as (

    select max(placed_date) as as_of_date from orders

),

final as (

    select
        per_customer.*,
        per_customer.channel_count > 1 as is_multichannel,
        date_diff('day', per_customer.last_order_date, as_of.as_of_date) > {{ var('churn_days', 180) }}
            as is_churned,
        cast(date_trunc('month', per_customer.first_order_date) as date) as cohort_month
    from per_customer
    cross join as_of

)

select * from final
