with

reports as (select * from {{ ref('stg_production__reports') }}),

final as (

    select *, good_qty * 1.0 / nullif(output_qty, 0) as yield_rate
    from reports

)

select * from final
