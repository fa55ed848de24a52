with

records as (

    select * from {{ ref('stg_app__form_records') }}

),

final as (

    select
        record_id,
        form_name,
        form_version,
        status,
        created_by,
        created_at,
        updated_at,
        cast(created_at as date) as created_date,
        data_json

    from records

)

select * from final
