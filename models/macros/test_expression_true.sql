{#- Rows where a business rule does not hold (dbt_utils.expression_is_true, offline). -#}
{% test dbt_utils_expression_true(model, expression) %}
    select * from {{ model }} where not ({{ expression }})
{% endtest %}
