{#
    DatedConversionRate holds units of a currency per unit of the org's corporate currency, from
    StartDate; the contract's rate is the reporting currency per unit (the corporate currency must
    be the reporting currency, var reporting_currency). The inverse is rounded to 12 decimals: a
    rate's own digits survive, the last bit of the double division does not decide a cent.
#}
with

conversion_rates as (
    select * from {{ ref('base_salesforce__dated_conversion_rate') }}
),

final as (
    select
        source_row_number,
        upper(iso_code) as currency,
        start_date as rate_date,
        coalesce(
            cast(round(cast(1 / nullif({{ crm_kpi.try_cast('conversion_rate', crm_kpi.type_double()) }}, 0) as decimal(38, 20)), 12) as {{ dbt.type_string() }}),
            conversion_rate
        ) as rate_to_reporting
    from conversion_rates
    where upper(iso_code) <> '{{ crm_kpi.checked_var("reporting_currency") | upper }}'
)

select * from final
