-- AP open items and their aging bucket as of the as-of date (var `as_of_date`, default the
-- latest business date in the books); the logic is shared with AR in macros/aging.sql.
{{ open_item_aging(
    ref('stg_finance__ap_invoices'),
    ref('stg_finance__gl_entries'),
    ['ap_invoice_id', 'supplier_code', 'supplier_name'],
) }}
