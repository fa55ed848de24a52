-- The sales channels OpsLake reads (fixed list; a new channel means a new connector).
with

channels as (

    select * from (
        values
            ('tmall', '天猫旗舰店', 'marketplace', '6001.01'),
            ('jd', '京东旗舰店', 'marketplace', '6001.02'),
            ('douyin', '抖音小店', 'marketplace', '6001.03'),
            ('shopify', '官网商城', 'web_shop', '6001.04'),
            ('pos', '线下门店', 'store', '6001.05'),
            ('manual', '大客户', 'b2b', '6001.06')
    ) as t (channel, channel_name, channel_type, revenue_account_code)

)

select * from channels
