{#- The latest version of each record of a raw stream that is delivered again and again
    (marketplace APIs resend an order on every change, and sometimes twice unchanged).

    The newest `version_order` wins (default: the platform's modified time); among exact
    duplicate deliveries of that version the later receipt is kept. Adds per key:
    `deliveries` (how many rows raw holds) and `last_received_at` (the latest receipt of
    any version, the cursor the incremental facts follow). `version_rank` is always 1.
    A subquery rather than QUALIFY keeps the SQL portable (Trino has no QUALIFY). -#}
{% macro latest_delivery(relation, keys=['channel', 'order_id'], version_order='modified_at desc') -%}
    {%- set partition = keys | join(', ') -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ partition }} order by {{ version_order }}, _received_at desc
            ) as version_rank,
            count(*) over (partition by {{ partition }}) as deliveries,
            max(_received_at) over (partition by {{ partition }}) as last_received_at
        from {{ relation }}
    ) as versions
    where version_rank = 1
{%- endmacro %}
