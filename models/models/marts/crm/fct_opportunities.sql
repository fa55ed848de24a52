with

opportunities as (select * from {{ ref('stg_crm__opportunities') }}),

final as (

    select
        opportunity_id, lead_id, crm_customer_id, opportunity_name, stage, opportunity_status,
        amount, probability_pct, cast(amount * probability_pct / 100.0 as decimal(18, 2)) as weighted_amount,
        created_on, expected_close_on, closed_on, owner, lost_reason,
        opportunity_status = 'won' as is_won,
        date_diff('day', created_on, closed_on) as days_to_close
    from opportunities

)

select * from final
