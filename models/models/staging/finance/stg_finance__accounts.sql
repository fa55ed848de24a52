with

source as (

    select * from {{ source('raw', 'finance_accounts') }}

),

renamed as (

    select
        cast(account_code as varchar) as account_code,
        account_name as account_name,
        category as account_type,
        balance_direction as balance_direction,
        cast(level as integer) as account_level,
        cast(parent_code as varchar) as parent_account_code,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by account_code order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
