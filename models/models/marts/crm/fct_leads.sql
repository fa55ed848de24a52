with

leads as (select * from {{ ref('stg_crm__leads') }}),

final as (

    select
        lead_id, created_at, created_on, cast(date_trunc('month', created_on) as date) as created_month,
        company, lead_source, owner, lead_status, opportunity_id, last_activity_on,
        case lead_status
            when 'new' then 1 when 'contacted' then 2 when 'qualified' then 3
            when 'converted' then 4 else 0
        end as funnel_stage_number,
        lead_status = 'converted' as is_converted
    from leads

)

select * from final
