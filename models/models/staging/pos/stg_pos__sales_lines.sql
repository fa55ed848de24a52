{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='transaction_id',
        on_schema_change='fail'
    )
}}
-- Incremental: a transaction with any raw line received since the cursor
-- (macros/incremental.sql) is rebuilt from all its raw lines, so the dedup below sees
-- every export that brought it.
with

source as (

    select * from {{ source('raw', 'pos_sales_lines') }}
    {% if is_incremental() %}
    where transaction_id in (
        select transaction_id from {{ source('raw', 'pos_sales_lines') }}
        where _received_at > {{ received_since('received_at') }}
    )
    {% endif %}

),

renamed as (

    select
        ---------- ids
        store_code,
        transaction_id,
        sku,
        source_file,
        source_line,

        ---------- attributes
        terminal,
        item_name,
        event_type,
        payment_method,
        customer_phone,
        event_type = 'Refund' or quantity < 0 as is_refund,

        ---------- numerics
        quantity,
        unit_price,
        gross_sales,
        coalesce(discounts, 0) as discounts,
        net_sales,

        ---------- timestamps (POS clocks run on the company's local time)
        sales_date,
        try_cast(sales_date::varchar || ' ' || coalesce(sales_time, '00:00') as timestamp)
            as sold_at_local,
        _received_at as received_at,
        _batch_id as batch_id

    from source

),

deduplicated as (

    -- a file can be exported twice with different names or preambles: the same
    -- store, transaction and line position is one line, whichever file brought it
    select *
    from renamed
    qualify row_number() over (
        partition by store_code, transaction_id, sku, event_type, quantity, net_sales
        order by received_at, source_file, source_line
    ) = 1

)

select * from deduplicated
