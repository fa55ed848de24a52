{#- Layers live in their own schemas of the lake (staging, intermediate, marts), named as-is
    rather than prefixed with the target schema, so readers find them at stable names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
