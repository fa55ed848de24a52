with

source as (

    select * from {{ source('raw', 'crm_opportunities') }}

),

renamed as (

    select
        opportunity_id as opportunity_id,
        lead_id as lead_id,
        account_code as crm_customer_id,
        name as opportunity_name,
        stage as stage,
        status as opportunity_status,
        {{ money('amount') }} as amount,
        cast(probability as integer) as probability_pct,
        cast(created_date as date) as created_on,
        cast(expected_close_date as date) as expected_close_on,
        cast(closed_date as date) as closed_on,
        owner as owner,
        lost_reason as lost_reason,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by opportunity_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
