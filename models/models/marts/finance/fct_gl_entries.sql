with

entries as (select * from {{ ref('stg_finance__gl_entries') }}),
accounts as (select * from {{ ref('stg_finance__accounts') }}),

final as (

    select
        entries.gl_entry_id,
        entries.voucher_id,
        entries.voucher_date,
        cast(date_trunc('month', entries.voucher_date) as date) as period_month,
        entries.entry_number,
        entries.summary,
        entries.account_code,
        coalesce(accounts.account_name, entries.account_name) as account_name,
        accounts.account_type,
        split_part(entries.account_code, '.', 1) as level1_account_code,
        entries.debit_amount,
        entries.credit_amount,
        cast(entries.debit_amount - entries.credit_amount as decimal(18, 2)) as net_debit_amount,
        entries.customer_name,
        entries.supplier_name,
        entries.department_name,
        entries.project_name
    from entries
    left join accounts on entries.account_code = accounts.account_code

)

select * from final
