with

accounts as (
    select * from {{ ref('base_salesforce__account') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('id') }} as account_id,
        name as account_name,
        industry,
        number_of_employees as employees,
        region_c as region,
        billing_country_code as country,
        {{ crm_kpi.salesforce_id('owner_id') }} as owner_user_id,
        created_date as created_at,
        last_modified_date as updated_at,
        is_deleted
    from accounts
)

select * from final
