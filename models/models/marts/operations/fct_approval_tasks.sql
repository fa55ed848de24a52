with

tasks as (

    select * from {{ ref('stg_app__flow_tasks') }}
    where task_kind = 'approve'  -- cc copies are notices, not decisions

),

instances as (

    select * from {{ ref('stg_app__flow_instances') }}

),

final as (

    select
        tasks.task_id,
        tasks.flow_instance_id,
        instances.record_id,
        instances.flow_name,
        tasks.node_id,
        tasks.task_round,
        tasks.assignee,
        tasks.acted_by,
        -- pending | approved | rejected | returned | transferred | escalated | cancelled
        tasks.task_status as decision,
        tasks.decision_comment,
        tasks.created_at,
        tasks.due_at,
        tasks.acted_at,
        cast(tasks.created_at as date) as created_date,
        cast(tasks.acted_at as date) as decided_date,
        tasks.task_status in ('approved', 'rejected', 'returned') as is_decided,
        tasks.task_status = 'approved' as is_approved,
        tasks.task_status = 'pending' as is_pending,
        coalesce(tasks.acted_at > tasks.due_at, false) as is_late,
        -- time the to-do waited in the assignee's inbox until a decision
        case
            when tasks.task_status in ('approved', 'rejected', 'returned')
                then date_diff('second', tasks.created_at, tasks.acted_at) / 3600.0
        end as cycle_time_hours

    from tasks
    -- a to-do can land before its flow instance: the app-store streams leave rows changed
    -- in the last seconds for the next run (ingest/sources/app_db.py, settle_seconds), and
    -- the instance stream runs first; such a to-do waits for the run that brings it
    inner join instances on tasks.flow_instance_id = instances.flow_instance_id

)

select * from final
