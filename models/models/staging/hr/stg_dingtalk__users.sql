with

source as (

    select * from {{ source('raw', 'dingtalk_users') }}

),

renamed as (

    select
        ---------- ids
        json_extract_string(payload, '$.userid') as employee_id,
        json_extract_string(payload, '$.job_number') as job_number,
        json_extract_string(payload, '$.manager_userid') as manager_employee_id,
        cast(json_extract_string(payload, '$.dept_id_list[0]') as varchar) as department_id,

        ---------- attributes
        json_extract_string(payload, '$.name') as employee_name,
        json_extract_string(payload, '$.title') as job_title,
        json_extract_string(payload, '$.work_place') as work_place,
        json_extract_string(payload, '$.mobile') as phone_raw,
        json_extract_string(payload, '$.email') as email_raw,

        ---------- booleans
        cast(json_extract_string(payload, '$.active') as boolean) as is_active,
        cast(json_extract_string(payload, '$.leader') as boolean) as is_leader,

        ---------- dates (epoch ms, company local dates)
        cast(timezone('Asia/Shanghai', to_timestamp(cast(json_extract_string(payload, '$.hired_date') as bigint) / 1000)) as date) as hired_on,
        cast(timezone('Asia/Shanghai', to_timestamp(cast(json_extract_string(payload, '$.left_date') as bigint) / 1000)) as date) as left_on

    from source

),

deduplicated as (

    select *
    from (
        select *, row_number() over (partition by employee_id order by employee_id) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
