with

users as (select * from {{ ref('stg_dingtalk__users') }}),
departments as (select * from {{ ref('stg_dingtalk__departments') }}),

final as (

    select
        users.employee_id,
        users.job_number,
        users.employee_name,
        users.job_title,
        users.department_id,
        departments.department_name,
        users.manager_employee_id,
        users.work_place,
        users.is_active,
        users.is_leader,
        users.hired_on,
        users.left_on
    from users
    left join departments on users.department_id = departments.department_id

)

select * from final
