-- Per month of lead creation: leads reaching each funnel stage and conversion rates.
with

leads as (select * from {{ ref('fct_leads') }}),
opportunities as (select * from {{ ref('fct_opportunities') }}),

final as (

    select
        leads.created_month,
        count(*) as leads,
        count(*) filter (where leads.funnel_stage_number >= 2 or leads.lead_status = 'disqualified') as contacted,
        count(*) filter (where leads.funnel_stage_number >= 3) as qualified,
        count(*) filter (where leads.is_converted) as converted,
        count(opportunities.opportunity_id) filter (where opportunities.is_won) as won,
        count(*) filter (where leads.is_converted) * 1.0 / count(*) as lead_conversion_rate,
        count(opportunities.opportunity_id) filter (where opportunities.is_won) * 1.0
            / nullif(count(*) filter (where leads.is_converted), 0) as win_rate
    from leads
    left join opportunities on leads.opportunity_id = opportunities.opportunity_id
    group by leads.created_month

)

select * from final
