{#- Salesforce logs a lead's creation as a `created` row without a value: its first status, new. -#}
with

lead_history as (
    select * from {{ ref('base_salesforce__lead_history') }}
    where lower(field) in ('status', 'created') and not {{ crm_kpi.salesforce_is_true('is_deleted') }}
),

final as (
    select
        source_row_number,
        {{ crm_kpi.salesforce_id('lead_id') }} as lead_id,
        case
            when lower(field) = 'created' then 'new'
            else {{ crm_kpi.salesforce_picklist('new_value', 'lead_status') }}
        end as status,
        created_date as changed_at
    from lead_history
)

select * from final
