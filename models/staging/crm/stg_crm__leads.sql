with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__leads'), ['lead_id'], order_by='updated_at', where='quarantine_reason is null') }}
),

final as (
    select
        lead_id,
        created_at,
        {{ crm_kpi.live_reference('source_campaign_id', 'campaigns') }} as source_campaign_id,
        channel,
        {{ crm_kpi.live_reference('owner_user_id', 'users') }} as owner_user_id,
        region,
        country,
        company,
        first_name,
        last_name,
        email,
        phone,
        {{ dbt.hash(dbt.concat([crm_kpi.pii_salt(), "coalesce(lower(email), lead_id)"])) }} as lead_person_key,
        status,
        {{ crm_kpi.live_reference('converted_account_id', 'accounts') }} as converted_account_id,
        {{ crm_kpi.live_reference('converted_opportunity_id', 'opportunities') }} as converted_opportunity_id,
        converted_at,
        updated_at
    from latest_rows
    where not coalesce(is_deleted, false)
)

select * from final
