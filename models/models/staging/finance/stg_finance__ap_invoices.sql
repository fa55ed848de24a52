with

source as (

    select * from {{ source('raw', 'finance_ap_invoices') }}

),

renamed as (

    select
        invoice_no as ap_invoice_id,
        supplier_code as supplier_code,
        supplier_name as supplier_name,
        source_doc_no as source_document_id,
        cast(invoice_date as date) as invoiced_on,
        cast(due_date as date) as due_on,
        currency as currency,
        {{ money('total_amount') }} as amount_incl_tax,
        {{ money('tax_amount') }} as tax_amount,
        {{ money('coalesce(paid_amount, 0)') }} as settled_amount,
        cast(paid_date as date) as settled_on,
        status as invoice_status,
        _received_at as _received_at

    from source

),

deduplicated as (

    -- a file landed again (re-export, re-import) repeats its rows: keep the latest receipt
    select *
    from (
        select
            *,
            row_number() over (partition by ap_invoice_id order by _received_at desc) as _row_rank
        from renamed
    ) as ranked
    where _row_rank = 1

)

select * from deduplicated
