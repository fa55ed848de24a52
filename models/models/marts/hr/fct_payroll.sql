with

payroll as (select * from {{ ref('stg_hr__payroll') }}),

final as (

    select
        payroll_id,
        payroll_month,
        cast(payroll_month || '-01' as date) as month_start,
        employee_id,
        department_id,
        department_name,
        base_salary,
        overtime_pay,
        bonus,
        cast(base_salary + overtime_pay + bonus as decimal(18, 2)) as gross_pay,
        social_insurance,
        housing_fund,
        income_tax,
        net_pay,
        paid_on
    from payroll

)

select * from final
