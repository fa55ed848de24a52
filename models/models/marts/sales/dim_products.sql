with

products as (select * from {{ ref('stg_catalog__products') }}),
sku_map as (select * from {{ ref('stg_catalog__channel_sku_map') }}),

codes as (

    select sku, count(*) as channel_code_count
    from sku_map
    group by sku

),

final as (

    select
        products.*,
        coalesce(codes.channel_code_count, 0) as channel_code_count,
        cast(products.list_price - products.standard_cost as decimal(18, 2)) as list_margin_amount
    from products
    left join codes on products.sku = codes.sku

)

select * from final
