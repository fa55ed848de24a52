with

source as (

    select * from {{ source('raw', 'finance_gl_vouchers') }}

),

renamed as (

    select
        strftime(cast(voucher_date as date), '%Y-%m') || '-' || voucher_word || '-' || cast(voucher_no as varchar) || '-' || cast(entry_no as varchar) as gl_entry_id,
        strftime(cast(voucher_date as date), '%Y-%m') || '-' || voucher_word || '-' || cast(voucher_no as varchar) as voucher_id,
        cast(voucher_date as date) as voucher_date,
        cast(period as varchar) as period,
        voucher_word as voucher_word,
        cast(voucher_no as integer) as voucher_no,
        cast(entry_no as integer) as entry_number,
        summary as summary,
        cast(account_code as varchar) as account_code,
        account_name as account_name,
        {{ money('coalesce(debit, 0)') }} as debit_amount,
        {{ money('coalesce(credit, 0)') }} as credit_amount,
        customer as customer_name,
        supplier as supplier_name,
        employee as employee_name,
        project as project_name,
        department as department_name,
        currency as currency,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by gl_entry_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
