-- Per month: new customers (first order), selling expense (GL 6601), CAC, and the average
-- lifetime value and churn of that month's cohort.
with

customers as (select * from {{ ref('dim_customers') }}),
gl as (select * from {{ ref('fct_gl_entries') }}),

cohorts as (

    select cohort_month as month, count(*) as new_customers, avg(lifetime_revenue) as avg_lifetime_value,
        count(*) filter (where is_churned) * 1.0 / count(*) as churn_rate
    from customers
    group by cohort_month

),

selling_expense as (

    select period_month as month, sum(debit_amount - credit_amount) as selling_expense
    from gl
    where level1_account_code = '6601'
    group by period_month

),

final as (

    select
        cohorts.month,
        cohorts.new_customers,
        cast(coalesce(selling_expense.selling_expense, 0) as decimal(18, 2)) as selling_expense,
        coalesce(selling_expense.selling_expense, 0) / nullif(cohorts.new_customers, 0) as customer_acquisition_cost,
        cohorts.avg_lifetime_value,
        cohorts.churn_rate
    from cohorts
    left join selling_expense on cohorts.month = selling_expense.month

)

select * from final
