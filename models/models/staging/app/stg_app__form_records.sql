with

source as (

    select * from {{ source('raw', 'app_form_records') }}

),

renamed as (

    select
        ---------- ids
        id as record_id,
        form_name,
        form_version,
        created_by,

        ---------- attributes
        status,
        data as data_json,

        ---------- timestamps (UTC)
        created_at,
        updated_at,
        _received_at as received_at

    from source

),

latest as (

    -- raw keeps every version of a record; the latest update wins
    select *
    from renamed
    qualify row_number() over (
        partition by record_id order by updated_at desc, received_at desc
    ) = 1

)

select * from latest
