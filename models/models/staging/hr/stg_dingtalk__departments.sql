with

source as (

    select * from {{ source('raw', 'dingtalk_departments') }}

),

renamed as (

    select
        ---------- ids
        json_extract_string(payload, '$.id') as department_id,
        json_extract_string(payload, '$.parentid') as parent_department_id,
        json_extract_string(payload, '$.deptManagerUseridList') as manager_employee_id,

        ---------- attributes
        json_extract_string(payload, '$.name') as department_name

    from source

),

deduplicated as (

    select *
    from (
        select *, row_number() over (partition by department_id order by department_id) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
