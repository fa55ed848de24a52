-- AR open items and their aging bucket as of the as-of date (var `as_of_date`, default the
-- latest business date in the books); the logic is shared with AP in macros/aging.sql.
{{ open_item_aging(
    ref('stg_finance__ar_invoices'),
    ref('stg_finance__gl_entries'),
    ['ar_invoice_id', 'crm_customer_id', 'customer_name'],
) }}
