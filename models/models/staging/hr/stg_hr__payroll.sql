with

source as (

    select * from {{ source('raw', 'hr_payroll') }}

),

renamed as (

    select
        cast(month as varchar) || '-' || cast(userid as varchar) as payroll_id,
        cast(month as varchar) as payroll_month,
        cast(userid as varchar) as employee_id,
        name as employee_name,
        cast(dept_id as varchar) as department_id,
        dept_name as department_name,
        {{ money('base_salary') }} as base_salary,
        {{ money('overtime_pay') }} as overtime_pay,
        {{ money('bonus') }} as bonus,
        {{ money('social_insurance') }} as social_insurance,
        {{ money('housing_fund') }} as housing_fund,
        {{ money('income_tax') }} as income_tax,
        {{ money('net_pay') }} as net_pay,
        cast(pay_date as date) as paid_on,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by payroll_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
