with

work_orders as (select * from {{ ref('stg_production__work_orders') }}),

final as (

    select
        *,
        good_qty * 1.0 / nullif(good_qty + scrap_qty, 0) as yield_rate,
        actual_end_on <= planned_end_on as is_on_time,
        actual_start_on is not null and actual_end_on is null as is_work_in_progress
    from work_orders

)

select * from final
