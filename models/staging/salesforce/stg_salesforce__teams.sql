with

user_roles as (
    select * from {{ ref('base_salesforce__user_role') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('id') }} as team_id,
        name as team_name,
        {{ crm_kpi.salesforce_id('forecast_user_id') }} as manager_user_id,
        region_c as region,
        last_modified_date as updated_at
    from user_roles
)

select * from final
