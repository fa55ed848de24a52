with

firings as (

    select * from {{ ref('stg_app__rule_firings') }}

),

final as (

    select
        firing_id,
        rule_name,
        cause_key,
        outcome,
        outcome_detail,
        inputs_json,
        fired_at,
        cast(fired_at as date) as fired_date,
        outcome = 'queued' as is_acted,
        -- the condition could not be evaluated: the rule is broken for this cause
        outcome = 'condition_error' as is_failure

    from firings

)

select * from final
