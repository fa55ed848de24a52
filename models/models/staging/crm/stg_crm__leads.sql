with

source as (

    select * from {{ source('raw', 'crm_leads') }}

),

renamed as (

    select
        lead_id as lead_id,
        cast(cast(created_at as timestamp) - interval '8' hour as timestamp) at time zone 'UTC' as created_at,
        cast(created_at as date) as created_on,
        company as company,
        contact as contact_name,
        source as lead_source,
        owner as owner,
        status as lead_status,
        opportunity_id as opportunity_id,
        cast(last_activity_date as date) as last_activity_on,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by lead_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
