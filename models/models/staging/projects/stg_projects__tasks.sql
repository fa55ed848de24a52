with

source as (

    select * from {{ source('raw', 'projects_tasks') }}

),

renamed as (

    select
        task_id as task_id,
        project_id as project_id,
        name as task_name,
        assignee as assignee,
        cast(planned_start as date) as planned_start_on,
        cast(planned_end as date) as planned_end_on,
        cast(actual_start as date) as actual_start_on,
        cast(actual_end as date) as actual_end_on,
        status as task_status,
        cast(progress as integer) as progress_pct,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by task_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
