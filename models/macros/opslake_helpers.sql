{#- Small portable helpers the models share. -#}

{#- A native 'yyyy-MM-dd HH:mm:ss' wall-clock string in China time (GMT+8) → UTC timestamptz.
    Zero dates ('0001-01-01 …', '1970-01-01 …') and empty strings are "unset" → null. -#}
{% macro cst_text_to_utc(expr) -%}
    case
        when {{ expr }} is null or {{ expr }} = '' or {{ expr }} like '0001-%' or {{ expr }} like '1970-01-01%'
            then null
        else cast(cast({{ expr }} as timestamp) - interval '8' hour as timestamp) at time zone 'UTC'
    end
{%- endmacro %}

{#- Unix seconds (0 = unset) → UTC timestamptz. -#}
{% macro epoch_to_utc(expr) -%}
    case when coalesce({{ expr }}, 0) = 0 then null else to_timestamp({{ expr }}) end
{%- endmacro %}

{#- A UTC instant as the company's local date (Asia/Shanghai, no DST: UTC+8). -#}
{% macro local_date(expr) -%}
    cast(timezone('Asia/Shanghai', {{ expr }}) as date)
{%- endmacro %}

{#- Money helpers: Douyin sends integer fen. -#}
{% macro fen_to_yuan(expr) -%}
    cast(cast({{ expr }} as decimal(18, 0)) / 100 as decimal(18, 2))
{%- endmacro %}

{% macro money(expr) -%}
    cast({{ expr }} as decimal(18, 2))
{%- endmacro %}

{#- Identity rule for phones: digits only; drop a leading 0086/86 country code; keep the
    last 11 digits of a mainland mobile. Empty → null. -#}
{% macro normalize_phone(expr) -%}
    nullif(right(regexp_replace(coalesce({{ expr }}, ''), '[^0-9]', '', 'g'), 11), '')
{%- endmacro %}

{% macro normalize_email(expr) -%}
    nullif(lower(trim(coalesce({{ expr }}, ''))), '')
{%- endmacro %}
