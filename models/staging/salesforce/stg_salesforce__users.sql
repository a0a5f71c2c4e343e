with

users as (
    select
        *,
        {{ crm_kpi.salesforce_picklist('sales_role_c', 'role') }} as role_value
    from {{ ref('base_salesforce__user') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('id') }} as user_id,
        name as full_name,
        email,
        role_value as role,  -- noqa: RF04
        {{ crm_kpi.salesforce_id('manager_id') }} as manager_user_id,
        region_c as region,
        country,
        hire_date_c as hired_on,
        termination_date_c as left_on,
        last_modified_date as updated_at,
        coalesce(is_deleted, fivetran_deleted) as is_deleted
    from users
)

select * from final
