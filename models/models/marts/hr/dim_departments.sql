with

departments as (select * from {{ ref('stg_dingtalk__departments') }}),
employees as (select * from {{ ref('stg_dingtalk__users') }}),

headcount as (

    select department_id, count(*) filter (where is_active) as active_headcount
    from employees
    group by department_id

),

final as (

    select departments.department_id, departments.department_name, departments.parent_department_id,
        departments.manager_employee_id, coalesce(headcount.active_headcount, 0) as active_headcount
    from departments
    left join headcount on departments.department_id = headcount.department_id

)

select * from final
