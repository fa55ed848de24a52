with

instances as (

    select * from {{ ref('stg_app__flow_instances') }}

),

records as (

    select * from {{ ref('stg_app__form_records') }}

),

tasks as (

    select
        flow_instance_id,
        count(*) as approval_task_count,
        count(acted_at) as decided_task_count
    from {{ ref('stg_app__flow_tasks') }}
    where task_kind = 'approve'
    group by flow_instance_id

),

final as (

    select
        instances.flow_instance_id,
        instances.record_id,
        instances.flow_name,
        records.form_name,
        json_extract_string(records.data_json, '$.title') as record_title,
        try_cast(json_extract_string(records.data_json, '$.amount') as decimal(18, 2))
            as record_amount,
        instances.started_by,
        instances.flow_status,
        instances.current_node,
        instances.started_at,
        instances.finished_at,
        cast(instances.started_at as date) as started_date,
        cast(instances.finished_at as date) as finished_date,
        instances.finished_at is not null as is_finished,
        instances.flow_status = 'approved' as is_approved,
        -- start to final decision, only for flows that ended
        date_diff('second', instances.started_at, instances.finished_at) / 3600.0
            as cycle_time_hours,
        coalesce(tasks.approval_task_count, 0) as approval_task_count,
        coalesce(tasks.decided_task_count, 0) as decided_task_count

    from instances
    left join records on instances.record_id = records.record_id
    left join tasks on instances.flow_instance_id = tasks.flow_instance_id

)

select * from final
