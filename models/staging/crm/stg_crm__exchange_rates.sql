with

valid_rows as (
    select * from {{ ref('base_crm__exchange_rates') }}
    where quarantine_reason is null
),

latest_rows as (
    {{ crm_kpi.dedupe_latest('valid_rows', ['currency', 'rate_date']) }}
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
