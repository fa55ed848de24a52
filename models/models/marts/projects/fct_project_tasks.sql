with

tasks as (select * from {{ ref('stg_projects__tasks') }}),

final as (

    select *, date_diff('day', planned_end_on, actual_end_on) as slip_days
    from tasks

)

select * from final
