{#- The receipt cursor of an incremental model: the newest raw receipt the model already
    holds (`column` of `this`), less a lookback, var `incremental_lookback_hours` (default 1).

    Keys with a raw row received after the cursor are rebuilt whole from their full
    history, so the lookback only widens what is rebuilt, never what is right. It exists
    for a batch committed after a later-stamped one: the loader stamps `_received_at` just
    before its commit and lake writers take turns (one writer pool), so that window is one
    land transaction, seconds; an hour is ample, and the nightly full refresh repairs
    anything beyond. Every hour of lookback is an hour of changes each run redoes.
    An empty model has no cursor: everything is after 1900. -#}
{% macro received_since(column='last_received_at') -%}
    (
        select
            coalesce(max({{ column }}), cast('1900-01-01 00:00:00+00' as timestamp with time zone))
            - interval '{{ var("incremental_lookback_hours", 1) }}' hour
        from {{ this }}
    )
{%- endmacro %}
