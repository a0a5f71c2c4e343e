"""Customer KPI marts (C1: churn by cohort) from the raw CSVs."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from oracle.registry import mart
from oracle.shared import (
    round_money,
    safe_ratio,
    subscription_months,
)
from oracle.staging import Raw

CHURN_COLUMNS = [
    "cohort_month",
    "months_since_start",
    "month",
    "cohort_size",
    "active_customers",
    "churned_customers",
    "logo_retention",
    "logo_churn",
    "starting_mrr",
    "mrr",
    "retained_mrr",
    "gross_revenue_retention",
    "net_revenue_retention",
]


@mart("kpi_churn_by_cohort")
def churn_by_cohort(raw: Raw, as_of: date) -> pd.DataFrame:
    """kpi_churn_by_cohort: cohort month (first active month) x months since start, 0 .. as-of month."""
    months = subscription_months(raw, as_of)
    if months.empty:
        return pd.DataFrame(columns=CHURN_COLUMNS)
    cohorts = months[months["is_active"]].groupby("account_id")["month"].min().rename("cohort_month")
    starting = months[["account_id", "month", "mrr"]].set_axis(["account_id", "cohort_month", "starting_mrr"], axis=1)
    months = months.join(cohorts, on="account_id").merge(starting, on=["account_id", "cohort_month"], how="left")
    months["retained_mrr"] = np.minimum(months["mrr"], months["starting_mrr"])
    months["months_since_start"] = (months["month"].dt.year - months["cohort_month"].dt.year) * 12 + (
        months["month"].dt.month - months["cohort_month"].dt.month
    )
    churn = months.groupby(["cohort_month", "months_since_start", "month"], as_index=False).agg(
        cohort_size=("account_id", "count"),
        active_customers=("is_active", "sum"),
        starting_mrr=("starting_mrr", "sum"),
        mrr=("mrr", "sum"),
        retained_mrr=("retained_mrr", "sum"),
    )
    churn["active_customers"] = churn["active_customers"].astype("int64")
    churn["cohort_size"] = churn["cohort_size"].astype("int64")
    churn["churned_customers"] = churn["cohort_size"] - churn["active_customers"]
    churn["months_since_start"] = churn["months_since_start"].astype("int64")
    for column in ["starting_mrr", "mrr", "retained_mrr"]:
        churn[column] = round_money(churn[column])
    churn = churn.assign(
        logo_retention=safe_ratio(churn["active_customers"], churn["cohort_size"]),
        logo_churn=safe_ratio(churn["churned_customers"], churn["cohort_size"]),
        gross_revenue_retention=safe_ratio(churn["retained_mrr"], churn["starting_mrr"]),
        net_revenue_retention=safe_ratio(churn["mrr"], churn["starting_mrr"]),
    )
    return churn[CHURN_COLUMNS].sort_values(["cohort_month", "months_since_start"]).reset_index(drop=True)
