with

latest_rows as (
    {{ crm_kpi.dedupe_latest(ref('base_crm__exchange_rates'), ['currency', 'rate_date'], where='quarantine_reason is null') }}
),

final as (
    select
        upper(currency) as currency,
        rate_date,
        rate_to_reporting,
        rate_date as valid_from,
        coalesce(
            lead(rate_date) over (partition by upper(currency) order by rate_date),
            cast('9999-12-31' as date)
        ) as valid_to
    from latest_rows
)

select * from final
