with

inspections as (select * from {{ ref('stg_quality__inspections') }}),

final as (

    select
        *,
        inspection_result <> 'pass' as is_failed,
        defect_qty * 1.0 / nullif(sample_size, 0) as defect_rate
    from inspections

)

select * from final
