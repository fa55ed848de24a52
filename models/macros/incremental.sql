{#- The receipt cursor of an incremental model: the newest raw receipt the model already
    holds (`column` of `this`), less a lookback, var `incremental_lookback_hours` (default 1).

    Keys with a raw row received after the cursor are rebuilt whole from their full
    history, so the lookback only widens what is rebuilt, never what is right. It exists
    for a batch committed after a later-stamped one: the loader stamps `_received_at` just
    before its commit and lake writers take turns (one writer pool), so that window is one
    land transaction, seconds; an hour is ample, and the nightly full refresh repairs
    anything beyond. Every hour of lookback is an hour of changes each run redoes.
    An empty model has no cursor: everything is after 1900.

    The cursor is looked up once, when the model runs, and written into its SQL as a
    timestamp literal (decision 0062). A `> (select max(...) from this)` subquery is a join
    to DuckDB: the scan below it reads every row and filters afterwards. A literal is a
    table filter: DuckLake skips the data files whose min/max receipt lies before it and
    Parquet the row groups, so finding what arrived since the last run reads the new files,
    not the whole history. -#}
{% macro received_since(column='last_received_at') -%}
    {%- set lookback = var("incremental_lookback_hours", 1) | int -%}
    {%- set cursor = '1900-01-01 00:00:00+00' -%}
    {%- if execute -%}
        {%- set held = run_query(
            "select cast(max(" ~ column ~ ") as varchar) from " ~ this
        ).columns[0].values()[0] -%}
        {%- if held is not none -%}{%- set cursor = held -%}{%- endif -%}
    {%- endif -%}
    (cast('{{ cursor }}' as timestamp with time zone) - interval '{{ lookback }}' hour)
{%- endmacro %}
