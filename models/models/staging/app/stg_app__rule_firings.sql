with

source as (

    select * from {{ source('raw', 'app_rule_firings') }}

),

renamed as (

    select
        ---------- ids
        id as firing_id,
        rule_name,
        cause_key,

        ---------- attributes
        outcome,
        detail as outcome_detail,
        inputs as inputs_json,

        ---------- timestamps (UTC)
        fired_at,
        _received_at as received_at

    from source

),

deduplicated as (

    -- firings are append-only; a replayed batch must not count twice
    select *
    from renamed
    qualify row_number() over (partition by firing_id order by received_at desc) = 1

)

select * from deduplicated
