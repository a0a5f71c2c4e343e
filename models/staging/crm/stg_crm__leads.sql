with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__leads'), ['lead_id'], order_by='updated_at', where='quarantine_reason is null') }}
),

final as (
    select
        lead_id,
        created_at,
        source_campaign_id,
        channel,
        owner_user_id,
        region,
        country,
        company,
        first_name,
        last_name,
        email,
        phone,
        {{ dbt.hash("coalesce(lower(email), lead_id)") }} as lead_person_key,
        status,
        converted_account_id,
        converted_opportunity_id,
        converted_at,
        updated_at
    from latest_rows
    where not coalesce(is_deleted, false)
)

select * from final
