{#- Aging of open items (AR invoices, AP invoices): one definition for both ledgers. -#}

{#- Aging bucket of an open item from its days past due (null/≤0 → not due). -#}
{% macro aging_bucket(days_overdue) -%}
    case
        when {{ days_overdue }} is null or {{ days_overdue }} <= 0 then '0 not due'
        when {{ days_overdue }} <= 30 then '1-30'
        when {{ days_overdue }} <= 60 then '31-60'
        when {{ days_overdue }} <= 90 then '61-90'
        when {{ days_overdue }} <= 180 then '91-180'
        else '>180'
    end
{%- endmacro %}

{#- Open items of `invoices` on the as-of date (var `as_of_date`, default the latest voucher
    date in `entries`) with days past due and their bucket. `invoices` carries the columns
    of stg_finance__ar_invoices / stg_finance__ap_invoices: invoiced_on, due_on,
    settled_on, settled_amount, invoice_status, amount_incl_tax; `key_columns` are the
    ledger's own (invoice id, counterparty id and name), kept first in that order.
    A settlement after the as-of date does not count: the item was still open then. -#}
{% macro open_item_aging(invoices, entries, key_columns) -%}
with

as_of as (

    select {% if var('as_of_date', none) %}cast('{{ var("as_of_date") }}' as date){% else %}max(voucher_date){% endif %} as as_of_date
    from {{ entries }}

),

aged as (

    select
        {%- for column in key_columns %}
        invoices.{{ column }},
        {%- endfor %}
        invoices.invoiced_on,
        invoices.due_on,
        invoices.settled_on,
        invoices.invoice_status,
        invoices.amount_incl_tax,
        cast(
            invoices.amount_incl_tax
            - case when invoices.settled_on <= as_of.as_of_date then invoices.settled_amount else 0 end
            as decimal(18, 2)
        ) as open_amount,
        as_of.as_of_date,
        date_diff('day', invoices.due_on, as_of.as_of_date) as days_overdue,
        date_diff('day', invoices.due_on, invoices.settled_on) as days_paid_late
    from {{ invoices }} as invoices
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
{%- endmacro %}
