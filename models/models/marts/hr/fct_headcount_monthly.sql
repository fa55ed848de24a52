-- Headcount at each month end, hires and leavers in the month, and attrition
-- (leavers / average of opening and closing headcount).
with

employees as (select * from {{ ref('dim_employees') }}),
spine as (select * from {{ ref('metricflow_time_spine') }}),

months as (

    select distinct cast(date_trunc('month', date_day) as date) as month_start
    from spine
    where date_day between (select min(hired_on) from employees) and (select max(coalesce(left_on, hired_on)) from employees)
        or date_day between date '2024-11-01' and date '2026-10-31'

),

counted as (

    select
        months.month_start,
        count(*) filter (
            where employees.hired_on < months.month_start
                and (employees.left_on is null or employees.left_on >= months.month_start)
        ) as opening_headcount,
        count(*) filter (
            where employees.hired_on <= months.month_start + interval '1' month - interval '1' day
                and (employees.left_on is null or employees.left_on > months.month_start + interval '1' month - interval '1' day)
        ) as closing_headcount,
        count(*) filter (
            where employees.hired_on >= months.month_start and employees.hired_on < months.month_start + interval '1' month
        ) as hires,
        count(*) filter (
            where employees.left_on >= months.month_start and employees.left_on < months.month_start + interval '1' month
        ) as leavers
    from months
    cross join employees
    group by months.month_start

),

final as (

    select *, leavers * 2.0 / nullif(opening_headcount + closing_headcount, 0) as attrition_rate
    from counted

)

select * from final
