with

projects as (select * from {{ ref('stg_projects__projects') }}),
tasks as (select * from {{ ref('stg_projects__tasks') }}),

task_stats as (

    select project_id, count(*) as task_count, avg(progress_pct) as avg_task_progress_pct
    from tasks
    group by project_id

),

final as (

    select
        projects.*,
        coalesce(task_stats.task_count, 0) as task_count,
        task_stats.avg_task_progress_pct,
        date_diff('day', projects.planned_end_on, projects.actual_end_on) as slip_days,
        cast(projects.actual_cost_amount - projects.budget_amount as decimal(18, 2)) as cost_variance_amount,
        projects.actual_end_on is not null as is_completed
    from projects
    left join task_stats on projects.project_id = task_stats.project_id

)

select * from final
