with

source as (

    select * from {{ source('raw', 'app_flow_tasks') }}

),

renamed as (

    select
        ---------- ids
        id as task_id,
        instance_id as flow_instance_id,
        node_id,
        round as task_round,
        assignee,
        acted_by,

        ---------- attributes
        kind as task_kind,
        status as task_status,
        comment as decision_comment,

        ---------- timestamps (UTC)
        created_at,
        due_at,
        acted_at,
        changed_at,
        _received_at as received_at

    from source

),

latest as (

    -- a task lands when it is created and again when it is acted on: the latest wins
    select *
    from renamed
    qualify row_number() over (
        partition by task_id order by changed_at desc, received_at desc
    ) = 1

)

select * from latest
