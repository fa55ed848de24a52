-- Identity resolution: which person placed each order, across channels (rules in the YAML).
with

orders as (select * from {{ ref('int_orders') }}),

contacts as (

    select
        channel,
        order_id,
        buyer_id,
        case when length(phone_normalized) = 11 and phone_normalized like '1%' then phone_normalized end as phone,
        email_normalized as email
    from orders

),

email_to_phone as (

    -- a record that carries both an e-mail and a phone links the two
    select email, min(phone) as phone
    from contacts
    where email is not null and phone is not null
    group by email

),

resolved as (

    select
        contacts.channel,
        contacts.order_id,
        coalesce(contacts.phone, email_to_phone.phone) as phone,
        contacts.email,
        case
            when coalesce(contacts.phone, email_to_phone.phone) is not null
                then 'phone'
            when contacts.email is not null then 'email'
            when contacts.buyer_id is not null then 'channel_buyer'
            else 'anonymous'
        end as matched_on,
        case
            when coalesce(contacts.phone, email_to_phone.phone) is not null
                then md5('phone:' || coalesce(contacts.phone, email_to_phone.phone))
            when contacts.email is not null then md5('email:' || contacts.email)
            when contacts.buyer_id is not null then md5('buyer:' || contacts.channel || ':' || contacts.buyer_id)
        end as customer_id
    from contacts
    left join email_to_phone on contacts.email = email_to_phone.email

),

final as (

    select
        {{ dbt_utils_surrogate('resolved.channel', 'resolved.order_id') }} as order_key,
        resolved.channel,
        resolved.order_id,
        resolved.customer_id,
        resolved.matched_on,
        md5(resolved.phone) as phone_hash,
        md5(resolved.email) as email_hash
    from resolved

)

select * from final
