with

source as (

    select * from {{ source('raw', 'crm_customers') }}

),

renamed as (

    select
        customer_id as crm_customer_id,
        customer_type as customer_type,
        name as customer_name,
        cast(phone as varchar) as phone_raw,
        email as email_raw,
        province as province,
        city as city,
        member_level as member_level,
        cast(registered_at as date) as registered_on,
        owner as owner,
        cast(credit_days as integer) as credit_days,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by crm_customer_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
