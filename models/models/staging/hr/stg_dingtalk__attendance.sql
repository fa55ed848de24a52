with

source as (

    select * from {{ source('raw', 'dingtalk_attendance') }}

),

renamed as (

    select
        ---------- ids
        json_extract_string(payload, '$.id') as attendance_id,
        json_extract_string(payload, '$.userId') as employee_id,

        ---------- attributes
        json_extract_string(payload, '$.checkType') as check_type,
        json_extract_string(payload, '$.timeResult') as time_result,
        json_extract_string(payload, '$.locationResult') as location_result,
        json_extract_string(payload, '$.sourceType') as source_type,

        ---------- timestamps (epoch ms → UTC; work date is the local calendar day)
        cast(timezone('Asia/Shanghai', to_timestamp(cast(json_extract_string(payload, '$.workDate') as bigint) / 1000)) as date) as work_date,
        to_timestamp(cast(json_extract_string(payload, '$.baseCheckTime') as bigint) / 1000) as scheduled_at,
        to_timestamp(cast(json_extract_string(payload, '$.userCheckTime') as bigint) / 1000) as checked_at

    from source

),

deduplicated as (

    select *
    from (
        select *, row_number() over (partition by attendance_id order by attendance_id) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
