with

source as (

    select * from {{ source('raw', 'app_flow_instances') }}

),

renamed as (

    select
        ---------- ids
        id as flow_instance_id,
        record_id,
        flow_name,
        started_by,

        ---------- attributes
        status as flow_status,
        current_node,

        ---------- timestamps (UTC)
        started_at,
        finished_at,
        changed_at,
        _received_at as received_at

    from source

),

latest as (

    -- raw keeps a version when a flow starts and one when it finishes: the latest wins
    select *
    from renamed
    qualify row_number() over (
        partition by flow_instance_id order by changed_at desc, received_at desc
    ) = 1

)

select * from latest
