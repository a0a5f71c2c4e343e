"""The views of the KPI report (`crm_kpi.report` renders them): what each reads and how it is drawn.

A view reads exactly one grain of its mart. A mart that holds several breakdowns or rules as rows (the grain
columns its `grain` meta declares) adds up to the same total once per value, so a view pins each such column
to one value (`grain`), or draws one trace set per value of one of them (`switch`) with buttons that show one
set at a time and name it in the title. Ratios are the mart's: a view reads the rate columns, or over several
rows the ratio its declaration defines (`declared_ratio`, the Power BI measure's arithmetic). Money is
in the reporting currency (`Context.currency`), named on every money axis. The period that holds the as-of
date is marked "partial: to <as-of>" wherever a view shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from crm_kpi import measures
from crm_kpi.manifest import Mart, term_columns

if TYPE_CHECKING:
    import plotly.graph_objects as go

NOT_OBSERVED = "not observed yet"


@dataclass(frozen=True)
class Context:
    """What every chart states beside the mart's rows."""

    as_of: date
    currency: str = "USD"
    mart: Mart | None = None  # the mart the view reads, with its declaration (ratios, grain)

    def money(self, what: str) -> str:
        return f"{what} ({self.currency})"


DrawFunction = Callable[[pd.DataFrame, Context], "go.Figure"]


@dataclass(frozen=True)
class View:
    key: str
    title: str
    kpis: tuple[str, ...]
    columns: tuple[str, ...]
    draw: DrawFunction
    mart: str | None = None  # None: the first mart answering one of `kpis` that has all `columns`
    note: str = ""  # what the chart shows, beyond the KPI definitions
    grain: Mapping[str, str] = field(default_factory=dict)  # column -> the one value read (written here, never input)
    switch: str | None = None  # the one multi-grain column drawn as trace sets, one shown at a time
    axis: str | None = None  # a grain column drawn as an axis: each of its values is its own cell, never summed


def partial_note(period_end: Any, as_of: date) -> str:
    """'partial: to <as-of>' for the period that holds the as-of date (it ends after it), else ''."""
    end = pd.Timestamp(period_end).date()
    return f"partial: to {as_of.isoformat()}" if end > as_of else ""


def _month_end(month_start: date) -> date:
    import calendar

    return month_start.replace(day=calendar.monthrange(month_start.year, month_start.month)[1])


def _go() -> Any:
    import plotly.graph_objects as go

    return go


def _finish(
    figure: go.Figure, title: str, height: int, subtitle: str = "", top: int = 90, right: int = 30
) -> go.Figure:
    figure.update_layout(
        title={"text": title, "subtitle": {"text": subtitle}, "x": 0, "xanchor": "left"},
        height=height,
        margin={"t": top, "l": 70, "r": right, "b": 70},
    )
    return figure


# --- funnel ----------------------------------------------------------------------------------------------

# (label, count column, the mart's rate column into the stage: count / the previous stage's count)
FUNNEL_STAGES = (
    ("Leads", "leads", None),
    ("MQL", "mqls", "mql_rate"),
    ("SQL", "sqls", "sql_rate"),
    ("Opportunity", "opportunities", "opportunity_rate"),
    ("Customer", "customers", "win_rate"),
)


def declared_ratio(mart: Mart | None, column: str, rows: pd.DataFrame) -> float | None:
    """The mart's declared ratio `column` over `rows` (crm_kpi.measures.ratio_value: the sums of its terms),
    as the Power BI measure computes it; never re-derived here."""
    declared = mart.column(column) if mart is not None else None
    if declared is None or declared.ratio is None:
        raise ValueError(f"{mart.name if mart else 'the view'} declares no ratio {column} (meta aggregate: ratio)")

    def total(term: str) -> float | None:
        product = pd.Series(1.0, index=rows.index)
        for name in term_columns(term):
            product = product * rows[name].astype(float)
        value = product.sum(min_count=1)
        return None if pd.isna(value) else float(value)

    return measures.ratio_value(declared.ratio, total)


def funnel_rates(rows: pd.DataFrame, mart: Mart | None) -> dict[str, float | None]:
    """Each stage-to-stage rate and the lead-to-customer rate over the rows, from the mart's declarations."""
    rates = [rate for _, _, rate in FUNNEL_STAGES if rate is not None] + ["lead_to_customer_rate"]
    return {rate: declared_ratio(mart, rate, rows) for rate in rates}


def draw_funnel(frame: pd.DataFrame, context: Context) -> go.Figure:
    go = _go()
    first, last = (pd.Timestamp(frame["cohort_month"].min()), pd.Timestamp(frame["cohort_month"].max()))
    partial = partial_note(_month_end(last.date()), context.as_of)
    cohorts = f"lead cohorts {first:%Y-%m} to {last:%Y-%m}" + (f" ({last:%Y-%m} {partial})" if partial else "")
    channels = frame.groupby("channel")["leads"].sum().sort_values(ascending=False).index.tolist()
    selections = [("all channels", frame)] + [(str(c), frame[frame["channel"] == c]) for c in channels]
    figure = go.Figure()
    titles = []
    for index, (name, rows) in enumerate(selections):
        rates = funnel_rates(rows, context.mart)
        counts = [int(rows[count].sum()) for _, count, _ in FUNNEL_STAGES]
        texts, hovers = [], []
        for position, (label, _, rate) in enumerate(FUNNEL_STAGES):
            if rate is None:
                texts.append(f"{counts[position]:,}")
                hovers.append(f"{counts[position]:,} leads")
                continue
            value = rates[rate]
            share = "n/a" if value is None else f"{value:.1%}"
            before = FUNNEL_STAGES[position - 1][0]
            texts.append(f"{counts[position]:,} ({share} of {before})")
            hovers.append(f"{counts[position]:,} reached {label}: {share} of {before} ({rate})")
        overall = rates["lead_to_customer_rate"]
        titles.append(
            f"Lead funnel, {name}: lead to customer "
            + ("n/a" if overall is None else f"{overall:.1%}")
            + f" ({counts[-1]:,} of {counts[0]:,})"
        )
        figure.add_trace(
            go.Funnel(
                name=name,
                meta=name,
                y=[label for label, _, _ in FUNNEL_STAGES],
                x=counts,
                text=texts,
                textinfo="text",
                textposition="outside",
                customdata=hovers,
                hovertemplate="%{customdata}<extra></extra>",
                visible=index == 0,
                showlegend=False,
            )
        )
    buttons = [
        {
            "label": name,
            "method": "update",
            "args": [{"visible": [i == index for i in range(len(selections))]}, {"title.text": titles[index]}],
        }
        for index, (name, _) in enumerate(selections)
    ]
    figure.update_layout(
        updatemenus=[{"type": "dropdown", "buttons": buttons, "active": 0, "x": 1, "xanchor": "right", "y": 1.18}],
        # plotly hides a funnel's axes unless told: both shown, with their titles
        # (a funnel centres its bars on 0: the value axis's ticks would run negative, so the bars carry the counts)
        xaxis={
            "visible": True,
            "title": {"text": "leads that reached the stage (count, on each bar)"},
            "showticklabels": False,
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={"visible": True, "title": {"text": "funnel stage"}},
    )
    subtitle = f"{cohorts}, by how far they got by {context.as_of.isoformat()}; pick a channel on the right"
    return _finish(figure, titles[0], 500, subtitle, top=110)


# --- CAC and ROI -----------------------------------------------------------------------------------------

RULE_NAMES = {
    "first_touch": "first-touch",
    "last_touch": "last-touch",
    "linear": "linear",
    "position_based": "position-based",
}
DEFAULT_RULE = "first_touch"
UNATTRIBUTED = "unattributed"


class _RuleState(NamedTuple):
    """What the title and the campaign axis say while one rule's traces are shown."""

    title: str
    subtitle: str
    labels: list[str]


def _money(value: float, currency: str) -> str:
    return f"{value:,.0f} {currency}"


def draw_cac_roi(frame: pd.DataFrame, context: Context) -> go.Figure:
    from plotly.subplots import make_subplots

    go = _go()
    found = set(frame["attribution_rule"])
    rules = [rule for rule in RULE_NAMES if rule in found] + sorted(found - set(RULE_NAMES))
    # Two campaign axes in step, not a shared one: plotly does not reorder matched axes on a button's relayout.
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.03, column_widths=[0.5, 0.5])
    campaigns = frame[frame["campaign_id"] != UNATTRIBUTED]
    duplicated = campaigns.drop_duplicates(["campaign_id"])["campaign_name"].duplicated(keep=False)
    twice = set(campaigns.drop_duplicates(["campaign_id"])["campaign_name"][duplicated])
    trace_rules: list[str] = []
    states: list[_RuleState] = []
    for rule in rules:
        rows = campaigns[campaigns["attribution_rule"] == rule].sort_values(
            ["cac", "campaign_name"], na_position="last"
        )
        labels = [
            f"{name} ({campaign})" if name in twice else str(name)
            for name, campaign in zip(rows["campaign_name"], rows["campaign_id"], strict=True)
        ]
        without = rows["cac"].isna()
        named = RULE_NAMES.get(rule, rule)
        hover = [
            f"{name}<br>spend {_money(float(spend), context.currency)}, "
            f"{customers:g} new customers ({named})<extra></extra>"
            for name, spend, customers in zip(labels, rows["spend"], rows["new_customers"], strict=True)
        ]
        figure.add_trace(
            go.Bar(
                name=f"CAC, {named}",
                meta=rule,
                x=rows["cac"],
                y=labels,
                orientation="h",
                marker={"color": "#2f6fb0"},
                text=[_money(value, context.currency) if value == value else "" for value in rows["cac"]],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=[f"CAC %{{x:,.2f}} {context.currency}<br>{h}" for h in hover],
            ),
            row=1,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                name=f"no new customer, {named}",
                meta=rule,
                x=[0] * int(without.sum()),
                y=[label for label, absent in zip(labels, without, strict=True) if absent],
                mode="markers+text",
                marker={"symbol": "x-thin-open", "size": 9, "color": "#7b8794"},
                text=["no new customer: no CAC"] * int(without.sum()),
                textposition="middle right",
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
        figure.add_trace(
            go.Bar(
                name=f"ROI, {named}",
                meta=rule,
                x=rows["roi"],
                y=labels,
                orientation="h",
                marker={"color": ["#c0392b" if value < 0 else "#27ae60" for value in rows["roi"].fillna(0)]},
                text=["" if value != value else f"{value:+.0%}" for value in rows["roi"]],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=[f"ROI %{{x:.0%}}<br>{h}" for h in hover],
            ),
            row=1,
            col=2,
        )
        trace_rules += [rule] * 3
        unattributed = frame[(frame["campaign_id"] == UNATTRIBUTED) & (frame["attribution_rule"] == rule)]
        left_out = float(unattributed["new_customers"].sum())
        states.append(
            _RuleState(
                f"CAC and ROI per campaign, {named} attribution, to {context.as_of.isoformat()}",
                f"Each campaign's spend, new customers and revenue credited by the {named} rule only. "
                f"Not in the bars: {left_out:g} new customers that no campaign touched.",
                labels,
            )
        )
    buttons = [
        {
            "label": RULE_NAMES.get(rule, rule),
            "method": "update",
            "args": [
                {"visible": [owner == rule for owner in trace_rules]},
                {
                    "title.text": state.title,
                    "title.subtitle.text": state.subtitle,
                    "yaxis.categoryarray": state.labels,  # the campaigns by this rule's CAC, on both panels
                    "yaxis2.categoryarray": state.labels,
                },
            ],
        }
        for rule, state in zip(rules, states, strict=True)
    ]
    first = rules.index(DEFAULT_RULE) if DEFAULT_RULE in rules else 0
    for trace, owner in zip(figure.data, trace_rules, strict=True):
        trace.visible = owner == rules[first]
    figure.update_layout(
        showlegend=False,
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "buttons": buttons,
                "active": first,
                "x": 1,
                "xanchor": "right",
                "y": 1.0,
                "yanchor": "bottom",
                "pad": {"b": 8},
            }
        ],
        annotations=[
            {
                "text": "attribution rule:",
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 1.0,
                "xanchor": "left",
                "yanchor": "bottom",
                "yshift": 12,
                "showarrow": False,
            }
        ],
    )
    figure.update_yaxes(
        title_text="campaign", categoryorder="array", categoryarray=states[first].labels, autorange="reversed"
    )
    figure.update_yaxes(title_text="", showticklabels=False, row=1, col=2)  # the same campaigns as on the left
    figure.update_xaxes(title_text=context.money("CAC = (spend + overhead) / new customers"), row=1, col=1)
    figure.update_xaxes(title_text="ROI = (attributed revenue - spend) / spend", tickformat=".0%", row=1, col=2)
    height = 220 + 24 * max(len(state.labels) for state in states)
    return _finish(figure, states[first].title, height, states[first].subtitle, top=130, right=80)


# --- cohort retention ------------------------------------------------------------------------------------


def draw_retention(frame: pd.DataFrame, context: Context) -> go.Figure:
    go = _go()
    data = frame.copy()
    data["cohort"] = pd.to_datetime(data["cohort_month"]).dt.strftime("%Y-%m")
    cohorts = sorted(data["cohort"].unique())
    sizes = data.groupby("cohort")["cohort_size"].first()
    width = int(data["months_since_start"].max()) + 1
    cells = {(row.cohort, int(row.months_since_start)): row for row in data.itertuples()}
    as_of_month = date(context.as_of.year, context.as_of.month, 1)
    z: list[list[float | None]] = []
    texts: list[list[str]] = []
    hovers: list[list[str]] = []
    unobserved: list[list[float | None]] = []
    for cohort in cohorts:
        start = pd.Timestamp(f"{cohort}-01")
        z.append([])
        texts.append([])
        hovers.append([])
        unobserved.append([])
        for months in range(width):
            month = (start + pd.DateOffset(months=months)).date()
            row = cells.get((cohort, months))
            where = f"cohort {cohort} ({int(sizes[cohort])} customers), month {months} ({month:%Y-%m})"
            if row is None or pd.isna(row.logo_retention):
                later = month > as_of_month  # after the as-of date: not observed yet, never 0%
                z[-1].append(None)
                texts[-1].append("")
                hovers[-1].append(f"{where}: {NOT_OBSERVED}" if later else f"{where}: no retention (no row, or size 0)")
                unobserved[-1].append(1.0 if later else None)
                continue
            partial = partial_note(_month_end(month), context.as_of)
            value = float(row.logo_retention)
            z[-1].append(value)
            texts[-1].append(f"{value:.0%}" + ("*" if partial else ""))
            hovers[-1].append(
                f"{where}: {value:.0%} active ({int(row.active_customers)} of {int(row.cohort_size)})"
                + (f", {partial}" if partial else "")
            )
            unobserved[-1].append(None)
    labels = [f"{cohort} ({int(sizes[cohort])})" for cohort in cohorts]
    figure = go.Figure()
    figure.add_trace(
        go.Heatmap(
            name="logo retention",
            z=z,
            x=list(range(width)),
            y=labels,
            text=texts,
            texttemplate="%{text}",
            textfont={"size": 9},
            hovertext=hovers,
            hoverinfo="text",
            hoverongaps=False,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"tickformat": ".0%", "title": {"text": "logo retention"}},
        )
    )
    figure.add_trace(
        go.Heatmap(
            name=NOT_OBSERVED,
            z=unobserved,
            x=list(range(width)),
            y=labels,
            hovertext=hovers,
            hoverinfo="text",
            hoverongaps=False,
            colorscale=[[0, "#eef1f4"], [1, "#eef1f4"]],
            showscale=False,
        )
    )
    figure.update_layout(
        xaxis={"title": {"text": "months since the subscription start"}, "dtick": 1},
        yaxis={"autorange": "reversed", "title": {"text": "subscription cohort (customers at start)"}},
    )
    subtitle = (
        "Share of each cohort's customers active n months after their start (the mart's logo_retention). "
        f"Grey: {NOT_OBSERVED} (after {context.as_of.isoformat()}), not 0%; * partial month."
    )
    return _finish(figure, "Logo retention by subscription cohort", 640, subtitle)


# --- rep leaderboard -------------------------------------------------------------------------------------


def last_full_quarter(as_of: date) -> tuple[date, date]:
    """The last calendar quarter that ended on or before the as-of date: (first day, last day)."""
    start = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    end_month = start.month + 2
    next_start = date(start.year + (end_month == 12), end_month % 12 + 1, 1)
    if (next_start - as_of).days == 1:  # the as-of date closes its own quarter
        return start, as_of
    previous = date(start.year - (start.month == 1), (start.month - 4) % 12 + 1, 1)
    return previous, date.fromordinal(start.toordinal() - 1)


def draw_leaderboard(frame: pd.DataFrame, context: Context) -> go.Figure:
    go = _go()
    start, end = last_full_quarter(context.as_of)
    months = pd.to_datetime(frame["month"]).dt.date
    data = frame[(months >= start) & (months <= end)]
    totals = data.groupby("rep_name")[["bookings", "quota"]].sum().sort_values("bookings", ascending=True)
    shares = [declared_ratio(context.mart, "quota_attainment", data[data["rep_name"] == rep]) for rep in totals.index]
    attainment = [f"{share:.0%} of quota" if share is not None else "no quota" for share in shares]
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            name="bookings",
            y=list(totals.index),
            x=totals["bookings"],
            orientation="h",
            text=attainment,
            textposition="auto",
        )
    )
    figure.add_trace(
        go.Scatter(
            name="quota",
            y=list(totals.index),
            x=totals["quota"],
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 18},
        )
    )
    figure.update_layout(
        xaxis={"title": {"text": context.money("bookings and quota in the quarter")}},
        yaxis={"title": {"text": "rep"}},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    quarter = f"{start.year} Q{(start.month - 1) // 3 + 1}"
    subtitle = f"The last full quarter to {context.as_of.isoformat()}: {start.isoformat()} to {end.isoformat()}"
    return _finish(figure, f"Rep leaderboard against quota, {quarter}", max(440, 28 * len(totals) + 160), subtitle)


# --- pipeline waterfall and MRR bridge -------------------------------------------------------------------


def _period_title(what: str, row: Any, as_of: date) -> str:
    partial = partial_note(row["period_end"], as_of)
    return f"{what}, month starting {row['period_start']:%Y-%m-%d}" + (f" ({partial})" if partial else "")


def _step_texts(values: Sequence[float], measures: Sequence[str]) -> list[str]:
    """A waterfall's labels: movements signed, levels plain (plotly's own %{delta} labels a 0 step with the level)."""
    return [
        f"{value:+,.0f}" if measure == "relative" else f"{value:,.0f}"
        for value, measure in zip(values, measures, strict=True)
    ]


def draw_pipeline_waterfall(frame: pd.DataFrame, context: Context) -> go.Figure:
    go = _go()
    row = frame.sort_values("period_start").iloc[-1]
    steps = [
        ("open at start", "open_value_at_start", 1),
        ("created", "created_value", 1),
        ("amount up", "amount_increases", 1),
        ("amount down", "amount_decreases", -1),
        ("won", "won_value", -1),
        ("lost", "lost_value", -1),
        ("reopened", "reopened_value", 1),
    ]
    labels = [label for label, _, _ in steps] + ["open at end"]
    values = [sign * float(row[column]) for _, column, sign in steps] + [float(row["open_value_at_end"])]
    measures = ["absolute"] + ["relative"] * (len(steps) - 1) + ["total"]
    figure = go.Figure(
        go.Waterfall(x=labels, y=values, measure=measures, text=_step_texts(values, measures), textposition="outside")
    )
    figure.update_layout(
        xaxis={"title": {"text": "movement of open pipeline in the month"}},
        yaxis={"title": {"text": context.money("open pipeline value")}},
    )
    return _finish(figure, _period_title("Pipeline waterfall", row, context.as_of), 480)


def draw_mrr_bridge(frame: pd.DataFrame, context: Context) -> go.Figure:
    go = _go()
    row = frame.sort_values("period_start").iloc[-1]
    parts = [
        ("starting MRR", "starting_mrr", 1),
        ("new", "new_mrr", 1),
        ("expansion", "expansion_mrr", 1),
        ("reactivated", "reactivated_mrr", 1),
        ("contraction", "contraction_mrr", -1),
        ("churned", "churned_mrr", -1),
    ]
    values = [sign * abs(float(row[column])) for _, column, sign in parts] + [float(row["ending_mrr"])]
    measures = ["absolute"] + ["relative"] * (len(parts) - 1) + ["total"]
    figure = go.Figure(
        go.Waterfall(
            x=[label for label, _, _ in parts] + ["ending MRR"],
            y=values,
            measure=measures,
            text=_step_texts(values, measures),
            textposition="outside",
        )
    )
    figure.update_layout(
        xaxis={"title": {"text": "MRR movement in the month"}},
        yaxis={"title": {"text": context.money("monthly recurring revenue")}},
    )
    return _finish(figure, _period_title("MRR bridge", row, context.as_of), 480)


# --- NPS -------------------------------------------------------------------------------------------------


def draw_nps(frame: pd.DataFrame, context: Context) -> go.Figure:
    go = _go()
    data = frame.sort_values("period_start").reset_index(drop=True)
    starts = pd.to_datetime(data["period_start"])
    quarters = [f"{start.year} Q{start.quarter}" for start in starts]
    partial = [partial_note(end, context.as_of) for end in data["period_end"]]
    respondents = [int(n) for n in data["respondents"]]
    ticks = [
        f"{quarter}<br>n={n}" + (f"<br>{note}" if note else "")
        for quarter, n, note in zip(quarters, respondents, partial, strict=True)
    ]
    labels = [
        "" if pd.isna(score) else f"{score:+.0f} (n={n})" for score, n in zip(data["nps"], respondents, strict=True)
    ]
    figure = go.Figure()
    for name, keep, symbol in (
        ("NPS, complete quarters", [not note for note in partial], "circle"),
        (f"NPS, the quarter in progress ({partial[-1] or 'none'})", [bool(note) for note in partial], "circle-open"),
    ):
        if not any(keep):
            continue
        figure.add_trace(
            go.Scatter(
                name=name,
                x=[tick for tick, kept in zip(ticks, keep, strict=True) if kept],
                y=[score for score, kept in zip(data["nps"], keep, strict=True) if kept],
                text=[label for label, kept in zip(labels, keep, strict=True) if kept],
                mode="lines+markers+text",
                textposition="top center",
                marker={"symbol": symbol, "size": 10, "color": "#2f6fb0"},
                line={"color": "#2f6fb0"},
                hovertemplate="%{x}: NPS %{y:+.1f}<extra></extra>",
            )
        )
    figure.update_layout(
        xaxis={"title": {"text": "quarter (n = respondents)"}, "categoryorder": "array", "categoryarray": ticks},
        yaxis={"range": [-100, 100], "title": {"text": "NPS (% promoters - % detractors)"}},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    subtitle = "Company-wide, per quarter; no point where no customer answered (n=0)."
    return _finish(figure, "NPS over time", 460, subtitle)


# The views, in page order. To point a view at a mart: set `mart="<name>"`; to rename what it reads, edit
# `columns` (and its draw function). A view whose mart is absent shows "not built yet" with what it needs.
VIEWS: tuple[View, ...] = (
    View(
        key="funnel",
        title="Funnel by channel",
        kpis=("F1",),
        columns=(
            "cohort_month",
            "channel",
            "leads",
            "mqls",
            "sqls",
            "opportunities",
            "customers",
            "mql_rate",
            "sql_rate",
            "opportunity_rate",
            "win_rate",
            "lead_to_customer_rate",
        ),  # fmt: skip
        draw=draw_funnel,
        note=(
            "Leads of every cohort month, by how far they got by the as-of date; each rate is the mart's "
            "(the stage's count / the previous stage's count, over the cohorts and channels shown)."
        ),
    ),
    View(
        key="cac_roi",
        title="CAC and ROI per campaign",
        kpis=("M1", "M3"),
        columns=(
            "attribution_rule",
            "campaign_id",
            "campaign_name",
            "spend",
            "new_customers",
            "cac",
            "roi",
        ),  # fmt: skip
        draw=draw_cac_roi,
        mart="kpi_campaign_cac",
        switch="attribution_rule",
        note=(
            "The buttons switch the rule: each rule credits the same customers and revenue, so the rules are never "
            "added up. Campaigns without a new customer have no CAC (null, not zero)."
        ),
    ),
    View(
        key="retention",
        title="Cohort retention",
        kpis=("C1",),
        columns=("cohort_month", "months_since_start", "cohort_size", "active_customers", "logo_retention"),
        draw=draw_retention,
        axis="months_since_start",
        note="Cohort sizes in brackets; a month after the as-of date is not observed yet (grey), which is not 0%.",
    ),
    View(
        key="leaderboard",
        title="Rep leaderboard against quota",
        kpis=("S3", "S4"),
        columns=("rep_name", "month", "bookings", "quota"),
        draw=draw_leaderboard,
        note="Bookings and quota summed over the last full quarter up to the as-of date.",
    ),
    View(
        key="pipeline_waterfall",
        title="Pipeline waterfall",
        kpis=("S8",),
        columns=(
            "period_start",
            "period_end",
            "open_value_at_start",
            "created_value",
            "amount_increases",
            "amount_decreases",
            "won_value",
            "lost_value",
            "reopened_value",
            "open_value_at_end",
        ),  # fmt: skip
        draw=draw_pipeline_waterfall,
        mart="kpi_pipeline_waterfall",
        grain={"period_type": "month"},
        note="Open pipeline value from the start to the end of the latest month: the movements add up exactly.",
    ),
    View(
        key="mrr_bridge",
        title="MRR bridge",
        kpis=("C4",),
        columns=(
            "period_start",
            "period_end",
            "starting_mrr",
            "new_mrr",
            "expansion_mrr",
            "contraction_mrr",
            "churned_mrr",
            "reactivated_mrr",
            "ending_mrr",
        ),  # fmt: skip
        draw=draw_mrr_bridge,
        mart="kpi_mrr_movements",
        grain={"period_type": "month", "breakdown": "total"},
        note="Starting MRR plus the month's movements equals the ending MRR (the company, the latest month).",
    ),
    View(
        key="nps",
        title="NPS over time",
        kpis=("C7",),
        columns=("period_start", "period_end", "nps", "respondents"),
        draw=draw_nps,
        mart="kpi_customer_satisfaction",
        grain={"survey_type": "nps", "period_type": "quarter", "breakdown": "total"},
        note="% promoters (9-10) minus % detractors (0-6) among the customers who answered, per quarter.",
    ),
)


def grain_predicate(view: View) -> str:
    """The SQL filter of a view's `grain` (its values are written in VIEWS, never input; quoted anyway)."""
    quoted = {column: value.replace("'", "''") for column, value in view.grain.items()}
    return " and ".join(f"\"{column}\" = '{value}'" for column, value in quoted.items())


def unpinned(view: View, mart: Mart) -> list[str]:
    """The grain columns the mart declares (its `grain` meta: period type, selectors, member breakdown) that
    the view neither pins nor switches on."""
    members = [mart.reading.members.by] if mart.reading.members else []
    declared = dict.fromkeys([*mart.reading.grain_columns, *members])
    return [column for column in declared if column not in view.grain and column not in {view.switch, view.axis}]
