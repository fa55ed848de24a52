{#- A stable text key from several columns (dbt_utils.generate_surrogate_key, without
    needing the package: dbt deps would download it, and these machines are offline). -#}
{% macro dbt_utils_surrogate() -%}
    md5(concat_ws('|', {% for col in varargs %}coalesce(cast({{ col }} as varchar), '∅'){% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}
