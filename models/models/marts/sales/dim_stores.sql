-- Physical stores (POS) plus one virtual store per online channel, so every order has one.
with

stores as (select * from {{ ref('stg_catalog__stores') }}),
channels as (select * from {{ ref('dim_channels') }}),

physical as (

    select store_code, store_name, 'pos' as channel, province, city, warehouse_code, opened_on,
        true as is_physical
    from stores

),

virtual as (

    select
        channel || '_online' as store_code,
        channel_name as store_name,
        channel,
        cast(null as varchar) as province,
        cast(null as varchar) as city,
        cast(null as varchar) as warehouse_code,
        cast(null as date) as opened_on,
        false as is_physical
    from channels
    where channel <> 'pos'

),

final as (

    select * from physical
    union all
    select * from virtual

)

select * from final
