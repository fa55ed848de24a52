-- AP open items and their aging bucket as of the as-of date (var `as_of_date`, default the
-- latest business date in the books).
with

invoices as (select * from {{ ref('stg_finance__ap_invoices') }}),
entries as (select * from {{ ref('stg_finance__gl_entries') }}),

as_of as (

    select {% if var('as_of_date', none) %}cast('{{ var("as_of_date") }}' as date){% else %}max(voucher_date){% endif %} as as_of_date
    from entries

),

aged as (

    select
        invoices.ap_invoice_id,
        invoices.supplier_code,
        invoices.supplier_name,
        invoices.invoiced_on,
        invoices.due_on,
        invoices.settled_on,
        invoices.invoice_status,
        invoices.amount_incl_tax,
        -- what was still open on the as-of date (a later payment does not count)
        cast(
            invoices.amount_incl_tax
            - case when invoices.settled_on <= as_of.as_of_date then invoices.settled_amount else 0 end
            as decimal(18, 2)
        ) as open_amount,
        as_of.as_of_date,
        date_diff('day', invoices.due_on, as_of.as_of_date) as days_overdue,
        date_diff('day', invoices.due_on, invoices.settled_on) as days_paid_late
    from invoices
    cross join as_of
    where invoices.invoiced_on <= as_of.as_of_date

),

final as (

    select
        *,
        case when open_amount > 0 then {{ aging_bucket('days_overdue') }} else 'settled' end as aging_bucket,
        open_amount > 0 and days_overdue > 0 as is_overdue,
        coalesce(days_paid_late, 0) > 0 as is_paid_late
    from aged

)

select * from final
