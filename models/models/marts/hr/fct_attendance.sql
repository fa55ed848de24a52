with

attendance as (select * from {{ ref('stg_dingtalk__attendance') }}),

final as (

    select
        attendance_id,
        employee_id,
        work_date,
        check_type,
        time_result,
        location_result,
        scheduled_at,
        checked_at,
        time_result in ('Late', 'SeriousLate') as is_late,
        time_result in ('Absenteeism', 'NotSigned') as is_absent,
        date_diff('minute', scheduled_at, checked_at) as minutes_from_schedule
    from attendance

)

select * from final
