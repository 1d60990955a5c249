"""The demo workspace: one train of five teams over three PIs, placed around `today` so one
PI is always current and every health state and verdict state shows in it."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.errors import Problem, ValidationError
from core.iterations import plan_iterations
from db.audit import record_audit
from db.engine import write_session
from db.models import (
    PI,
    CheckIn,
    Hypothesis,
    Iteration,
    IterationGoal,
    Metric,
    Outcome,
    Reading,
    Release,
    Target,
    Team,
    Train,
)

SEED = 42
WEEKS_OF_READINGS = 104  # two years of weekly readings
READING_LAG_DAYS = 3  # the latest weekly reading is three days old
DESIGN_LEAD_DAYS = 35  # designed series start this long before the current PI
STALE_SILENCE_DAYS = 38  # the stale metric's last reading is this old
RAMP_CAP = 1.12  # achieved targets level off a little above their target
PROGRESS_NOISE = 0.012  # noise of designed series, as a share of (target - baseline)

PAST, CURRENT, NEXT = "past", "current", "next"


# ---------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class MetricSpec:
    """A metric and the shape of its history: `level` is its value when the current PI's
    story begins, `two_years_ago` where the trend started, `noise` the week-to-week
    spread (all in metric units)."""

    name: str
    unit: str
    interval: int
    decimals: int
    leading: bool
    better: str  # increase or decrease
    level: float
    two_years_ago: float
    noise: float
    high: float | None = None
    seasonal: float = 0.0  # amplitude of the yearly swing, peaking in December
    description: str = ""
    source: str = ""


@dataclass(frozen=True)
class TargetPlan:
    """One target of an outcome. In the current PI `health` names the state its metric's
    readings are built to show; elsewhere the history decides. `target` is an absolute
    value, `change` a share of the baseline (past and next PIs)."""

    metric: str
    health: str = ""
    target: float | None = None
    change: float | None = None
    band: tuple[float, float] | None = None
    release_age: int | None = None  # days before today of the release that moves it
    team: str | None = None  # owner of the metric when it is not the outcome's team
    baseline_known: bool = True  # False: a planning draft without baseline value or date
    dated: bool = True  # False: baseline value known, baseline date not yet


@dataclass(frozen=True)
class HypothesisPlan:
    """ "If we build X, we expect Y because Z" on one of the outcome's target metrics."""

    metric: str
    if_text: str
    expect_text: str
    because_text: str
    min_effect: float
    min_effect_unit: str = "absolute"
    release_age: int | None = None  # days before today of the release that shipped X
    lift: float = 0.0  # past PIs: how much better the metric got with that release
    learning: str = ""
    decision: str | None = None


@dataclass(frozen=True)
class OutcomePlan:
    title: str
    why: str
    targets: tuple[TargetPlan, ...] = ()
    hypotheses: tuple[HypothesisPlan, ...] = ()
    owner: int = 0  # index into the team's people
    committed: bool = True
    planned_bv: int | None = None
    actual_bv: int | None = None
    confidence: tuple[int, ...] = ()  # fortnightly check-ins, oldest first
    last_comment: str = ""
    parent: bool = False  # contributes to the train-level outcome of its PI


@dataclass(frozen=True)
class ReleasePlan:
    age: int  # days before today
    notes: str


@dataclass(frozen=True)
class TeamSpec:
    name: str
    key: str
    people: tuple[str, ...]
    first_version: int
    metrics: tuple[MetricSpec, ...]
    releases: tuple[ReleasePlan, ...]  # the current PI's releases that hypotheses name
    past: tuple[OutcomePlan, ...]
    current: tuple[OutcomePlan, ...]
    next: tuple[OutcomePlan, ...]

    def metric(self, name: str) -> MetricSpec:
        return next(m for m in self.metrics if m.name == name)


@dataclass(frozen=True)
class TrainSpec:
    name: str
    key: str
    owner: str
    past: OutcomePlan
    current: OutcomePlan
    next: OutcomePlan


INC, DEC = "increase", "decrease"

# Metric tables read best one metric to a row, so the formatter leaves them alone.
# fmt: off
CHECKOUT_METRICS = (
    MetricSpec("Checkout conversion", "%", 7, 2, True, INC, 2.10, 1.74, 0.035, high=100.0,
               description="Share of sessions with a basket that end in a paid order.",
               source="Web analytics, weekly export"),
    MetricSpec("Payment page load time (p95)", "s", 7, 2, True, DEC, 2.40, 2.95, 0.06,
               description="95th percentile time until the payment page is usable.",
               source="Real-user monitoring"),
    MetricSpec("Cart abandonment", "%", 7, 1, False, DEC, 71.5, 74.2, 0.6, high=100.0,
               description="Baskets created but not paid within 24 hours.",
               source="Web analytics, weekly export"),
    MetricSpec("Checkout errors", "per 1k sessions", 7, 2, True, DEC, 4.20, 6.10, 0.15,
               description="Checkout sessions that hit an error page, per thousand.",
               source="Error tracking"),
    MetricSpec("Weekly paying customers", "users", 14, 0, False, INC, 48200, 41500, 600,
               seasonal=2500,
               description="Distinct customers with at least one paid order in the week.",
               source="Orders database"),
    MetricSpec("Average order value", "EUR", 14, 2, False, INC, 38.40, 36.10, 0.45, seasonal=1.2,
               description="Mean paid basket after discounts.", source="Orders database"),
)
WALLET_METRICS = (
    MetricSpec("Active wallet users", "users", 14, 0, False, INC, 126000, 98000, 1500,
               seasonal=3000,
               description="Customers who paid from the wallet in the last 28 days.",
               source="Wallet service"),
    MetricSpec("Top-up success rate", "%", 7, 1, True, INC, 93.0, 90.4, 0.35, high=100.0,
               description="Wallet top-ups that succeed on the first try.",
               source="Payment provider reports"),
    MetricSpec("Time to add a card", "s", 7, 1, True, DEC, 48.0, 55.0, 1.0,
               description="Median time from opening 'Add card' to a saved card.",
               source="Product analytics"),
    MetricSpec("Wallet share of payments", "%", 14, 1, False, INC, 18.5, 12.0, 0.3, high=100.0,
               description="Payments made from the wallet, as a share of all payments.",
               source="Payments ledger"),
    MetricSpec("Wallet support tickets", "tickets", 7, 0, False, DEC, 340, 420, 16,
               description="Support tickets tagged 'wallet' in the week.", source="Help desk"),
    MetricSpec("Card verification failures", "%", 7, 2, True, DEC, 3.00, 3.60, 0.08, high=100.0,
               description="Card verifications (3-D Secure) that fail.",
               source="Payment provider reports"),
)
RISK_METRICS = (
    MetricSpec("False decline rate", "%", 7, 2, True, DEC, 1.80, 2.30, 0.04, high=100.0,
               description="Good payments our fraud rules decline (appeals and sampling).",
               source="Risk data warehouse"),
    MetricSpec("Chargeback rate", "%", 14, 2, False, DEC, 0.62, 0.71, 0.015, high=100.0,
               description="Chargebacks as a share of card payments, by payment week.",
               source="Card scheme reports"),
    MetricSpec("Manual review time", "min", 7, 1, True, DEC, 14.5, 17.0, 0.35,
               description="Median analyst time per case in manual review.",
               source="Case tool export"),
    MetricSpec("Fraud losses", "kEUR", 14, 1, False, DEC, 86.0, 104.0, 2.5,
               description="Confirmed fraud losses in the week, in thousands of euros.",
               source="Finance"),
    MetricSpec("Review queue size", "cases", 7, 0, True, DEC, 420, 510, 18,
               description="Cases waiting for manual review on Monday morning.",
               source="Risk data warehouse"),
    MetricSpec("Risk scoring latency (p99)", "ms", 7, 0, True, DEC, 180, 240, 5,
               description="99th percentile time to score one payment.",
               source="Service monitoring"),
)
INSIGHTS_METRICS = (
    MetricSpec("Time to first insight", "s", 7, 1, True, DEC, 95.0, 118.0, 1.8,
               description="Median time from opening the merchant dashboard to the first "
               "report viewed.", source="Product analytics"),
    MetricSpec("Weekly active merchants", "users", 7, 0, False, INC, 8400, 6900, 110,
               seasonal=250,
               description="Merchants who opened the dashboard in the week.",
               source="Product analytics"),
    MetricSpec("Report export success", "%", 7, 1, True, INC, 96.0, 93.5, 0.4, high=100.0,
               description="Report exports that finish without an error.",
               source="Export service logs"),
    MetricSpec("Dashboard load time (p95)", "ms", 7, 0, True, DEC, 2600, 3400, 55,
               description="95th percentile time until the dashboard responds.",
               source="Real-user monitoring"),
    MetricSpec("Merchant satisfaction", "points", 14, 1, False, INC, 7.1, 6.6, 0.1, high=10.0,
               description="Mean answer to 'How happy are you with the dashboard?' (0-10).",
               source="In-app survey"),
    MetricSpec("Self-serve answers", "%", 14, 1, False, INC, 54.0, 46.0, 0.8, high=100.0,
               description="Merchant questions the dashboard answered without a support "
               "contact.", source="Help desk"),
)
SETTLEMENTS_METRICS = (
    MetricSpec("Payouts on time", "%", 7, 1, False, INC, 97.2, 95.1, 0.2, high=100.0,
               description="Merchant payouts that arrive on the promised day.",
               source="Payout ledger"),
    MetricSpec("Payout failures", "%", 7, 2, True, DEC, 0.85, 1.20, 0.03, high=100.0,
               description="Payouts rejected by the receiving bank.", source="Payout ledger"),
    MetricSpec("Reconciliation time", "h", 7, 1, True, DEC, 30.0, 41.0, 0.9,
               description="Hours from a bank statement arriving to all its lines matched.",
               source="Finance operations"),
    MetricSpec("Payout API latency (p95)", "ms", 7, 0, True, DEC, 420, 560, 14,
               description="95th percentile response time of the payouts API.",
               source="Service monitoring"),
    MetricSpec("Payout support contacts", "per 1k payouts", 14, 2, False, DEC, 2.60, 3.40, 0.08,
               description="Merchant contacts about payouts per thousand payouts.",
               source="Help desk"),
    MetricSpec("Merchants on instant payouts", "merchants", 14, 0, False, INC, 1850, 600, 20,
               description="Merchants who switched on instant payouts.", source="Payout ledger"),
)
# fmt: on


# Targets shared by a team outcome and the train outcome it contributes to.
CONVERSION_TARGET = TargetPlan("Checkout conversion", "achieved", target=2.60, release_age=40)
TOP_UP_TARGET = TargetPlan("Top-up success rate", "on_track", target=97.0)

CHECKOUT = TeamSpec(
    name="Checkout",
    key="CHK",
    people=("Maya Lindqvist", "Tom Becker", "Aisha Khan"),
    first_version=2,
    metrics=CHECKOUT_METRICS,
    releases=(
        ReleasePlan(98, "Apple Pay and Google Pay buttons on mobile."),
        ReleasePlan(91, "Retry payment-provider timeouts once."),
        ReleasePlan(84, "Accessory suggestions in the basket."),
        ReleasePlan(40, "One-click pay for returning customers."),
        ReleasePlan(19, "Address autocomplete; smaller payment form on mobile."),
        ReleasePlan(5, "Payment page rendered on the server."),
    ),
    past=(
        OutcomePlan(
            "Mobile buyers finish paying as often as desktop buyers",
            "Two thirds of our visitors are on phones, and they convert at half the desktop rate.",
            (TargetPlan("Checkout conversion", change=0.06),),
            (
                HypothesisPlan(
                    "Checkout conversion",
                    "we add Apple Pay and Google Pay buttons",
                    "more mobile buyers finish checkout",
                    "typing a card number on a phone is the top complaint in session replays",
                    0.05,
                    lift=0.12,
                    release_age=98,
                    learning="Wallet buttons lifted mobile conversion; desktop did not move.",
                    decision="persevere",
                ),
            ),
            owner=0,
            planned_bv=8,
            actual_bv=7,
        ),
        OutcomePlan(
            "Stop losing buyers to checkout errors",
            "Every error page is a buyer who has already decided to pay.",
            (TargetPlan("Checkout errors", change=-0.2),),
            (
                HypothesisPlan(
                    "Checkout errors",
                    "we retry failed payment-provider calls once",
                    "fewer buyers see an error page",
                    "half of the errors are provider timeouts that succeed on a second try",
                    0.3,
                    lift=0.7,
                    release_age=91,
                    learning="Retries removed the timeout errors; the rest are card declines.",
                    decision="persevere",
                ),
            ),
            owner=1,
            planned_bv=6,
            actual_bv=5,
        ),
        OutcomePlan(
            "Bigger baskets without a pushier upsell",
            "Margins are thin on single-item orders.",
            (TargetPlan("Average order value", change=0.04),),
            (
                HypothesisPlan(
                    "Average order value",
                    "we suggest accessories that fit the basket",
                    "buyers add a second item",
                    "a third of returns mention a missing cable or case",
                    0.8,
                    lift=-0.8,
                    release_age=84,
                    learning="Suggestions were ignored; buyers found them noisy.",
                    decision="stop",
                ),
            ),
            owner=2,
            committed=False,
            planned_bv=3,
            actual_bv=2,
        ),
    ),
    current=(
        OutcomePlan(
            "Raise checkout conversion from 2.1% to 2.6%",
            "Each tenth of a point is about 2,300 more paid orders a month, and the funnel "
            "shows the card form is where buyers give up.",
            (CONVERSION_TARGET,),
            (
                HypothesisPlan(
                    "Checkout conversion",
                    "we offer one-click pay to returning customers",
                    "more buyers finish checkout",
                    "the card form is the biggest drop-off in the funnel",
                    0.15,
                    release_age=40,
                    learning="Returning customers convert far better with one-click pay; "
                    "guests are next.",
                    decision="persevere",
                ),
            ),
            owner=0,
            planned_bv=8,
            confidence=(6, 7, 8, 9),
            last_comment="Target reached three weeks after one-click pay shipped.",
            parent=True,
        ),
        OutcomePlan(
            "Cut the time buyers wait for the payment page from 2.4 s to 1.6 s",
            "Slow pages on mobile networks lose buyers before they even see the form.",
            (
                TargetPlan("Payment page load time (p95)", "on_track", target=1.60),
                TargetPlan("Checkout errors", "on_track", band=(0.0, 5.0)),
            ),
            (
                HypothesisPlan(
                    "Payment page load time (p95)",
                    "we render the payment page on the server",
                    "the p95 load time drops by at least 0.3 s",
                    "most of the wait is spent downloading and running client-side code",
                    0.3,
                    release_age=5,
                ),
            ),
            owner=1,
            planned_bv=6,
            confidence=(7, 7, 8, 8),
            last_comment="Server rendering shipped on Wednesday; first readings look good.",
        ),
        OutcomePlan(
            "Fewer abandoned baskets: from 71.5% to 66%",
            "Abandoned baskets are buyers who wanted something and did not get it.",
            (TargetPlan("Cart abandonment", "at_risk", target=66.0),),
            (
                HypothesisPlan(
                    "Cart abandonment",
                    "we keep baskets across devices for signed-in buyers",
                    "fewer baskets are abandoned",
                    "a third of buyers browse on the phone and pay on a laptop",
                    2.0,
                ),
            ),
            owner=2,
            committed=False,
            planned_bv=4,
            confidence=(6, 6, 5, 5),
            last_comment="Moving, but slower than planned: cross-device baskets slipped to v3.",
        ),
    ),
    next=(
        OutcomePlan(
            "Let guests pay with one click too",
            "Guests are 40% of buyers and still type their card every time.",
            (TargetPlan("Checkout conversion", target=2.90, dated=False),),
            (
                HypothesisPlan(
                    "Checkout conversion",
                    "we remember a guest's card on this device",
                    "guest conversion catches up with returning customers",
                    "one-click pay lifted returning customers by half a point",
                    0.15,
                ),
            ),
            owner=0,
        ),
        OutcomePlan(
            "Fewer abandoned baskets on phones",
            "The mobile basket is where most abandonment happens.",
            (TargetPlan("Cart abandonment", change=-0.08),),
            owner=2,
            planned_bv=5,
        ),
    ),
)

WALLET = TeamSpec(
    name="Wallet",
    key="WAL",
    people=("Priya Raman", "Jonas Weber", "Lucía Ortega"),
    first_version=1,
    metrics=WALLET_METRICS,
    releases=(
        ReleasePlan(97, "The wallet is offered first to repeat buyers."),
        ReleasePlan(88, "Failed top-ups say why."),
        ReleasePlan(42, "Scan a card with the phone camera."),
        ReleasePlan(21, "Retry declined top-ups with the backup card."),
        ReleasePlan(8, "New 3-D Secure provider for half of the traffic."),
    ),
    past=(
        OutcomePlan(
            "Grow wallet use among repeat buyers",
            "Wallet payments cost us a third of card fees.",
            (TargetPlan("Wallet share of payments", change=0.12),),
            (
                HypothesisPlan(
                    "Wallet share of payments",
                    "we offer the wallet first to repeat buyers",
                    "more payments come from the wallet",
                    "repeat buyers already have a balance they forget about",
                    0.5,
                    lift=0.25,
                    release_age=97,
                    learning="Small lift; buyers did not notice the new order of options.",
                    decision="pivot",
                ),
            ),
            owner=0,
            planned_bv=9,
            actual_bv=6,
        ),
        OutcomePlan(
            "Fewer wallet support tickets",
            "Support contacts about the wallet cost more than the wallet earns in fees.",
            (TargetPlan("Wallet support tickets", change=-0.15),),
            (
                HypothesisPlan(
                    "Wallet support tickets",
                    "we show the reason when a top-up fails",
                    "fewer customers contact support",
                    "most tickets ask why a top-up failed",
                    20,
                    lift=12,
                    release_age=88,
                    learning="Tickets fell in the first week, then crept back.",
                    decision="persevere",
                ),
            ),
            owner=1,
            planned_bv=7,
            actual_bv=4,
        ),
        OutcomePlan(
            "Top-ups that work the first time",
            "A failed top-up often ends with the customer leaving for a card payment.",
            (TargetPlan("Top-up success rate", change=0.015),),
            owner=2,
            planned_bv=4,
            actual_bv=3,
        ),
    ),
    current=(
        OutcomePlan(
            "Raise top-up success from 93% to 97%",
            "One failed top-up in fourteen ends a wallet purchase before it starts.",
            (TOP_UP_TARGET,),
            (
                HypothesisPlan(
                    "Top-up success rate",
                    "we retry declined top-ups with the customer's backup card",
                    "more top-ups succeed on the first try",
                    "one in five failures is a temporary decline on the main card",
                    1.5,
                    release_age=21,
                ),
            ),
            owner=0,
            planned_bv=7,
            confidence=(7, 7, 8, 8),
            parent=True,
        ),
        OutcomePlan(
            "Halve the time it takes to add a card, from 48 s to 24 s",
            "Customers who give up on adding a card never use the wallet.",
            (TargetPlan("Time to add a card", "off_track", target=24.0, release_age=42),),
            (
                HypothesisPlan(
                    "Time to add a card",
                    "we let customers scan their card with the phone camera",
                    "adding a card takes at least 5 s less",
                    "typing the 16-digit number is the slowest step",
                    5.0,
                    release_age=42,
                    learning="The camera permission prompt added a step and most people "
                    "typed the number anyway.",
                    decision="pivot",
                ),
            ),
            owner=1,
            planned_bv=7,
            confidence=(7, 5, 3, 3),
            last_comment="Card scanning made it slower; we are switching to autofill from the bank app.",
        ),
        OutcomePlan(
            "Keep card verification failures between 2.5% and 3.5% while we change provider",
            "A new 3-D Secure provider must not cost us buyers on the way.",
            (TargetPlan("Card verification failures", "on_track", band=(2.5, 3.5)),),
            owner=2,
            committed=False,
            planned_bv=3,
            confidence=(8, 8, 8, 8),
        ),
    ),
    next=(
        OutcomePlan(
            "Returning buyers choose the wallet first",
            "Wallet payments are cheaper and faster for everyone.",
            (TargetPlan("Wallet share of payments", target=24.0, baseline_known=False),),
            owner=0,
            planned_bv=8,
        ),
        OutcomePlan(
            "Adding a card takes under 30 seconds",
            "The camera did not help; autofill from the bank app might.",
            (TargetPlan("Time to add a card", change=-0.35),),
            (
                HypothesisPlan(
                    "Time to add a card",
                    "we fill card details from the bank app",
                    "adding a card takes at least 10 s less",
                    "the bank app already holds the card and the customer is signed in",
                    10.0,
                ),
            ),
            owner=1,
        ),
    ),
)

RISK = TeamSpec(
    name="Risk",
    key="RSK",
    people=("Elena Petrova", "Sam Okafor"),
    first_version=4,
    metrics=RISK_METRICS,
    releases=(
        ReleasePlan(95, "Block devices that try many cards in a row."),
        ReleasePlan(44, "Risk model score replaces the velocity rules."),
        ReleasePlan(42, "Pre-filled evidence panel; case tool SDK upgrade."),
        ReleasePlan(14, "Real-time scoring for card payments."),
    ),
    past=(
        OutcomePlan(
            "Catch card testing before it costs us",
            "Card testers run thousands of small payments through us every weekend.",
            (TargetPlan("Fraud losses", change=-0.08),),
            (
                HypothesisPlan(
                    "Fraud losses",
                    "we block devices that try many cards in a row",
                    "weekly fraud losses fall by 5%",
                    "card testing starts from a handful of devices",
                    5,
                    "percent",
                    lift=8.0,
                    release_age=95,
                    learning="Blocking devices worked until testers rotated them.",
                    decision="pivot",
                ),
            ),
            owner=0,
            planned_bv=8,
            actual_bv=7,
        ),
        OutcomePlan(
            "Faster manual reviews",
            "The review queue delays good payments by hours.",
            (TargetPlan("Manual review time", change=-0.1),),
            owner=1,
            planned_bv=5,
            actual_bv=4,
        ),
        OutcomePlan(
            "Halve scoring latency",
            "Checkout waits for the risk score.",
            (TargetPlan("Risk scoring latency (p99)", change=-0.5),),
            owner=0,
            committed=False,
            planned_bv=3,
            actual_bv=1,
        ),
    ),
    current=(
        OutcomePlan(
            "Decline fewer good customers: false declines from 1.8% to 1.2% before the peak-season freeze",
            "Every false decline is a customer we told they are a fraudster.",
            (TargetPlan("False decline rate", "missed", target=1.20, release_age=44),),
            (
                HypothesisPlan(
                    "False decline rate",
                    "we replace the fixed velocity rules with the risk model's score",
                    "fewer good payments are declined",
                    "the velocity rules cannot tell a busy shopper from a card tester",
                    0.15,
                    release_age=44,
                    learning="Better, not enough: the model is too cautious on first-time buyers.",
                    decision="persevere",
                ),
            ),
            owner=0,
            planned_bv=9,
            confidence=(7, 6, 5, 4),
            last_comment="Freeze started at 1.4%; we keep tuning after the peak.",
        ),
        OutcomePlan(
            "Cut manual review time from 14.5 to 9 minutes per case",
            "Analysts spend most of their day switching between four tools.",
            (
                TargetPlan("Manual review time", "stale", target=9.0, release_age=42),
                TargetPlan("Review queue size", "on_track", target=300),
            ),
            (
                HypothesisPlan(
                    "Manual review time",
                    "we pre-fill the evidence panel for each case",
                    "analysts need at least 2 minutes less per case",
                    "analysts spend most of a review collecting evidence",
                    2.0,
                    release_age=42,
                ),
            ),
            owner=1,
            planned_bv=6,
            confidence=(7, 7, 6, 5),
            last_comment="Cannot tell: the case tool export broke with the SDK upgrade.",
        ),
        OutcomePlan(
            "Bring weekly fraud losses from 86k to 70k EUR",
            "Fraud losses come straight off the margin.",
            (TargetPlan("Fraud losses", "on_track", target=70.0),),
            (
                HypothesisPlan(
                    "Fraud losses",
                    "we score card payments in real time instead of in batches",
                    "weekly fraud losses fall by 5%",
                    "fraudsters exploit the minutes between payment and batch scoring",
                    5,
                    "percent",
                    release_age=14,
                ),
            ),
            owner=0,
            committed=False,
            planned_bv=4,
            confidence=(6, 7, 7, 7),
        ),
    ),
    next=(
        OutcomePlan(
            "Keep chargebacks under the card schemes' 0.65% warning level",
            "Above it the schemes fine us and watch every payment.",
            (TargetPlan("Chargeback rate", band=(0.0, 0.65)),),
            owner=0,
            planned_bv=7,
        ),
        OutcomePlan(
            "Review fewer cases by hand",
            "Most manual reviews end with an approval.",
            (TargetPlan("Review queue size", change=-0.3),),
            owner=1,
        ),
    ),
)

INSIGHTS = TeamSpec(
    name="Insights",
    key="INS",
    people=("Lea Hoffmann", "Daniel Kim", "Noor Haddad"),
    first_version=1,
    metrics=INSIGHTS_METRICS,
    releases=(
        ReleasePlan(93, "Search that understands questions."),
        ReleasePlan(33, "Faster dashboard queries; report builder beta."),
        ReleasePlan(12, "Export wizard, first steps behind a flag."),
    ),
    past=(
        OutcomePlan(
            "Merchants find answers without calling support",
            "Half of merchant support calls ask for a number the dashboard already has.",
            (TargetPlan("Self-serve answers", change=0.08),),
            (
                HypothesisPlan(
                    "Self-serve answers",
                    "we add a search box that understands questions",
                    "more questions are answered in the dashboard",
                    "merchants cannot find the right report among forty",
                    2.0,
                    lift=3.0,
                    release_age=93,
                    learning="Search is used daily; questions about payouts still go to support.",
                    decision="persevere",
                ),
            ),
            owner=0,
            planned_bv=7,
            actual_bv=7,
        ),
        OutcomePlan(
            "Dashboards that open before the coffee is ready",
            "Merchants open the dashboard first thing and wait.",
            (TargetPlan("Dashboard load time (p95)", change=-0.12),),
            owner=1,
            planned_bv=6,
            actual_bv=5,
        ),
        OutcomePlan(
            "Exports that just work",
            "Accountants export every month-end and call us when it fails.",
            (TargetPlan("Report export success", change=0.01),),
            owner=2,
            planned_bv=5,
            actual_bv=4,
        ),
    ),
    current=(
        OutcomePlan(
            "Reduce time taken by users to access key insights by 30%",
            "Merchants who see their numbers in the first minute come back every week.",
            (
                TargetPlan("Time to first insight", "at_risk", target=66.5),
                TargetPlan("Dashboard load time (p95)", "on_track", target=1800),
            ),
            (
                HypothesisPlan(
                    "Time to first insight",
                    "we let merchants save their views on the home dashboard",
                    "time to first insight drops by 15%",
                    "merchants rebuild the same filters on almost every visit",
                    15,
                    "percent",
                ),
            ),
            owner=0,
            planned_bv=8,
            confidence=(7, 6, 6, 5),
            last_comment="Faster queries helped; saved views slipped to the next release.",
        ),
        OutcomePlan(
            "Build the new export wizard",
            "Merchants asked for it in the last survey.",
            owner=2,
            planned_bv=5,
            confidence=(8, 7, 7, 7),
        ),
        OutcomePlan(
            "Raise merchant satisfaction from 7.1 to 7.8 after the dashboard redesign",
            "The redesign is only worth it if merchants like it better.",
            (TargetPlan("Merchant satisfaction", "no_data", target=7.8),),
            (
                HypothesisPlan(
                    "Merchant satisfaction",
                    "we redesign the home dashboard around the questions merchants ask",
                    "satisfaction rises by half a point",
                    "survey comments say the dashboard answers questions nobody asked",
                    0.5,
                ),
            ),
            owner=1,
            committed=False,
            planned_bv=3,
            confidence=(6, 6, 6, 6),
            last_comment="Measured from the redesign launch next week.",
        ),
    ),
    next=(
        OutcomePlan(
            "Merchants reach key insights in under a minute",
            "Saved views and the redesign together should get us there.",
            (TargetPlan("Time to first insight", target=60.0, dated=False),),
            owner=0,
        ),
        OutcomePlan(
            "Grow weekly active merchants to 9,500",
            "More merchants using the dashboard means fewer support calls.",
            (TargetPlan("Weekly active merchants", target=9500),),
            owner=1,
            planned_bv=5,
        ),
    ),
)

SETTLEMENTS = TeamSpec(
    name="Settlements",
    key="STL",
    people=("Marta Nowak", "Chris Duarte"),
    first_version=3,
    metrics=SETTLEMENTS_METRICS,
    releases=(
        ReleasePlan(96, "IBAN check when merchants enter their bank account."),
        ReleasePlan(33, "Automatic matching of statement lines."),
        # 31 days ago: its 28-day window has closed, and the metric was already rising on
        # the PI's straight path, so the before/after means say "supported" while the
        # trend-adjusted verdict shows the release added nothing (the demo's example).
        ReleasePlan(31, "Instant rail near the bank's cut-off."),
    ),
    past=(
        OutcomePlan(
            "Fewer payouts bounced by banks",
            "A bounced payout is a merchant without money for a week.",
            (TargetPlan("Payout failures", change=-0.12),),
            (
                HypothesisPlan(
                    "Payout failures",
                    "we check IBANs when merchants enter them",
                    "fewer payouts bounce",
                    "most bounces are typing mistakes",
                    0.05,
                    lift=0.15,
                    release_age=96,
                    learning="Typos are gone; closed accounts are the rest.",
                    decision="persevere",
                ),
            ),
            owner=0,
            planned_bv=9,
            actual_bv=8,
        ),
        OutcomePlan(
            "Tell merchants where their money is",
            "'Where is my payout?' is the most common support question.",
            (TargetPlan("Payout support contacts", change=-0.1),),
            owner=1,
            planned_bv=6,
            actual_bv=6,
        ),
    ),
    current=(
        OutcomePlan(
            "Get merchants their money on time: payouts on time from 97.2% to 99.5%",
            "Late payouts are the first reason merchants give when they leave us.",
            (
                TargetPlan("Payouts on time", "on_track", target=99.5),
                TargetPlan("Payout failures", "on_track", target=0.60),
            ),
            (
                HypothesisPlan(
                    "Payouts on time",
                    "we send payouts over the instant rail when the cut-off is near",
                    "more payouts arrive on the promised day",
                    "late payouts cluster in the hour before the bank's cut-off",
                    0.6,
                    release_age=31,
                ),
            ),
            owner=0,
            planned_bv=8,
            confidence=(7, 8, 8, 8),
        ),
        OutcomePlan(
            "Cut reconciliation time from 30 h to 12 h",
            "Finance cannot close the day until every statement line is matched.",
            (TargetPlan("Reconciliation time", "achieved", target=12.0, release_age=33),),
            (
                HypothesisPlan(
                    "Reconciliation time",
                    "we match statement lines automatically by reference and amount",
                    "reconciliation takes at least 20% less time",
                    "four in five lines match on reference and amount alone",
                    20,
                    "percent",
                    release_age=33,
                    learning="Automatic matching clears most lines within "
                    "hours; the rest are genuine exceptions.",
                    decision="persevere",
                ),
            ),
            owner=1,
            planned_bv=6,
            confidence=(6, 7, 9, 9),
            last_comment="Done: finance closes the day before noon now.",
        ),
    ),
    next=(
        OutcomePlan(
            "Instant payouts for every merchant who wants them",
            "Merchants on instant payouts stay with us longer.",
            (TargetPlan("Merchants on instant payouts", change=0.4),),
            owner=0,
            planned_bv=6,
        ),
        OutcomePlan(
            "A payout API fast enough for partners' checkouts",
            "Two marketplaces want to pay out at checkout time.",
            (TargetPlan("Payout API latency (p95)", target=300),),
            owner=1,
        ),
    ),
)

TEAMS: tuple[TeamSpec, ...] = (CHECKOUT, WALLET, RISK, INSIGHTS, SETTLEMENTS)

TRAIN = TrainSpec(
    name="Payments",
    key="PAY",
    owner="Anna Berg",
    past=OutcomePlan(
        "Cut payment support contacts across the train by 15%",
        "Support costs grow faster than payments.",
        (
            TargetPlan("Wallet support tickets", change=-0.15, team="WAL"),
            TargetPlan("Payout support contacts", change=-0.15, team="STL"),
        ),
        planned_bv=8,
        actual_bv=7,
    ),
    current=OutcomePlan(
        "More payments succeed on the first try, across the train",
        "Payments that fail once are often not tried again.",
        (
            TargetPlan(
                CONVERSION_TARGET.metric,
                CONVERSION_TARGET.health,
                target=CONVERSION_TARGET.target,
                release_age=CONVERSION_TARGET.release_age,
                team="CHK",
            ),
            TargetPlan(
                TOP_UP_TARGET.metric, TOP_UP_TARGET.health, target=TOP_UP_TARGET.target, team="WAL"
            ),
        ),
        planned_bv=9,
        confidence=(7, 7, 8, 8),
    ),
    next=OutcomePlan(
        "Be ready for the peak season without slowing anyone down",
        "Peak season brings three times the usual payments.",
        (TargetPlan("Risk scoring latency (p99)", change=-0.25, team="RSK"),),
    ),
)

GENERIC_RELEASE_NOTES = (
    "Bug fixes and small improvements.",
    "Dependency upgrades.",
    "Accessibility fixes on forms.",
    "Performance work on the slowest pages.",
    "Copy changes from user research.",
    "Monitoring and alerting improvements.",
    "Clean-up of an old experiment.",
)
CHECKIN_COMMENTS = {
    "high": ("On course.", "Numbers moving the right way.", "Looks good; keeping an eye on it."),
    "mid": (
        "Moving, slower than planned.",
        "Mixed signals this fortnight.",
        "Need another release.",
    ),
    "low": ("Not moving.", "Rethinking the approach.", "Blocked on a dependency."),
}


# ---------------------------------------------------------------- calendar


@dataclass(frozen=True)
class PiPlan:
    name: str
    start: dt.date
    end: dt.date
    role: str  # past, current, next


def _quarter_label(index: int) -> str:
    """'PI 26.4' for the fourth quarter of 2026 (index = year * 4 + quarter - 1)."""
    return f"PI {(index // 4) % 100:02d}.{index % 4 + 1}"


def pi_calendar(today: dt.date, *, past: int = 1, upcoming: int = 1) -> tuple[PiPlan, ...]:
    """PIs back to back around `today`: the current one is 12 weeks (Monday to Friday)
    with today in its eighth week, past and upcoming ones 10 weeks. Named by quarter."""
    monday = today - dt.timedelta(days=today.weekday())
    start = monday - dt.timedelta(weeks=7)
    current = (start, start + dt.timedelta(days=12 * 7 - 3))
    middle = current[0] + (current[1] - current[0]) / 2
    index = middle.year * 4 + (middle.month - 1) // 3
    plans = [PiPlan(_quarter_label(index), current[0], current[1], CURRENT)]
    for step in range(1, past + 1):
        start = plans[0].start - dt.timedelta(weeks=10)
        plans.insert(
            0, PiPlan(_quarter_label(index - step), start, start + dt.timedelta(days=67), PAST)
        )
    for step in range(1, upcoming + 1):
        start = plans[-1].end + dt.timedelta(days=3)
        plans.append(
            PiPlan(_quarter_label(index + step), start, start + dt.timedelta(days=67), NEXT)
        )
    return tuple(plans)


def weekly_dates(today: dt.date, weeks: int = WEEKS_OF_READINGS) -> list[dt.date]:
    """Reading dates, oldest first: one a week, the latest three days before today."""
    latest = today - dt.timedelta(days=READING_LAG_DAYS)
    return [latest - dt.timedelta(weeks=k) for k in reversed(range(weeks))]


# ---------------------------------------------------------------- series


def metric_rng(team_key: str, metric_name: str) -> random.Random:
    """Each metric's noise comes from its own stream, so adding a metric or a team never
    changes another metric's readings."""
    return random.Random(f"{SEED}/{team_key}/{metric_name}")


def _season(day: dt.date) -> float:
    """The yearly swing, peaking in mid-December (the shopping season)."""
    return math.cos(2 * math.pi * (day.timetuple().tm_yday - 350) / 365.25)


@dataclass(frozen=True)
class Timeline:
    """Reading dates with what the trend needs of each (days from the anchor, the yearly
    swing relative to the anchor's), computed once for every metric on those dates."""

    dates: tuple[dt.date, ...]
    offsets: tuple[int, ...]
    seasons: tuple[float, ...]

    @classmethod
    def of(cls, dates: Sequence[dt.date], anchor: dt.date) -> Timeline:
        at_anchor = _season(anchor)
        return cls(
            dates=tuple(dates),
            offsets=tuple((day - anchor).days for day in dates),
            seasons=tuple(_season(day) - at_anchor for day in dates),
        )


def _trend(spec: MetricSpec, offset: int, season: float) -> float:
    """A straight trend through `level` at the anchor (two years of change from
    `two_years_ago`), plus the yearly swing."""
    return spec.level + (spec.level - spec.two_years_ago) / 728 * offset + spec.seasonal * season


def trend_value(spec: MetricSpec, day: dt.date, anchor: dt.date) -> float:
    """The metric's smooth path on one day."""
    timeline = Timeline.of([day], anchor)
    return _trend(spec, timeline.offsets[0], timeline.seasons[0])


def _bounded(spec: MetricSpec, value: float) -> float:
    value = max(0.0, value)
    return min(spec.high, value) if spec.high is not None else value


def history_values(rng: random.Random, spec: MetricSpec, timeline: Timeline) -> list[float]:
    """Trend plus autocorrelated noise (a wobble that lingers for a few weeks), unrounded.
    Written out rather than calling `_trend` per value: scaled workspaces call it
    millions of times."""
    gauss, spread = rng.gauss, spec.noise * 0.8
    level, seasonal = spec.level, spec.seasonal
    slope = (spec.level - spec.two_years_ago) / 728
    high = spec.high if spec.high is not None else math.inf
    wobble = 0.0
    values = []
    for offset, season in zip(timeline.offsets, timeline.seasons, strict=True):
        wobble = 0.6 * wobble + gauss(0.0, spread)
        values.append(min(high, max(0.0, level + slope * offset + seasonal * season + wobble)))
    return values


def round_to(value: float, decimals: int) -> float:
    return float(round(value, decimals))


@dataclass(frozen=True)
class Design:
    """How a current-PI target's readings are shaped so it lands in `health` on today."""

    health: str
    baseline: float
    target: float | None
    band: tuple[float, float] | None
    release: dt.date | None
    start: dt.date  # the current PI's start (baseline date)
    end: dt.date  # the current PI's end (target date)
    today: dt.date
    missed_by: dt.date  # target date of the `missed` design


def _elapsed(day: dt.date, start: dt.date, end: dt.date) -> float:
    return (day - start).days / (end - start).days


def design_progress(design: Design, day: dt.date) -> float:
    """The progress the readings follow on `day` (before the noise)."""
    latest = design.today - dt.timedelta(days=READING_LAG_DAYS)
    expected_today = _elapsed(design.today, design.start, design.end)
    health = design.health
    if health == "achieved" and design.release is not None:
        if day <= design.release:
            return 0.0
        return min(RAMP_CAP, 0.3 + 0.82 * (day - design.release).days / 28)
    if health == "off_track" and design.release is not None:
        if day <= design.release:
            return 0.0
        return -0.12 - 0.1 * (day - design.release).days / 28
    if day <= design.start:
        return 0.0
    if health == "missed":
        share = min(1.0, _elapsed(day, design.start, design.missed_by))
        return 0.6 * share + 0.05 * max(0.0, (day - design.missed_by).days / 14)
    if health == "stale":
        return 0.45 * _elapsed(day, design.start, design.end)
    # A straight path from the baseline to a chosen distance from today's expected
    # progress: ahead of it (on track) or 0.24 behind (at risk, midway in its band).
    goal = {"on_track": expected_today + 0.06, "at_risk": expected_today - 0.24}.get(health, 0.0)
    return goal * _elapsed(day, design.start, latest)


def designed_values(
    rng: random.Random, spec: MetricSpec, dates: Sequence[dt.date], design: Design
) -> list[float]:
    """Readings that follow the design with a little noise (kept well inside the margins
    that separate one health from the next)."""
    values = []
    for day in dates:
        noise = max(-0.03, min(0.03, rng.gauss(0.0, PROGRESS_NOISE)))
        if design.band is not None:
            low, high = design.band
            inner = (high - low) * 0.15
            value = spec.level + noise / 0.03 * spec.noise
            value = max(low + inner, min(high - inner, value))
        else:
            assert design.target is not None
            gap = design.target - design.baseline
            value = design.baseline + (design_progress(design, day) + noise) * gap
        values.append(_bounded(spec, value))
    return values


# ---------------------------------------------------------------- releases


def release_schedule(
    rng: random.Random,
    today: dt.date,
    *,
    first_version: int,
    planned: Sequence[ReleasePlan] = (),
    span_days: int = 728,
) -> list[tuple[str, dt.date, str]]:
    """(name, date, notes) oldest first: the planned releases, and one every two to four
    weeks around them, named v<major>.<minor> in order. `planned` ages are days before
    today."""
    ages = {plan.age: plan.notes for plan in planned}
    age = rng.randint(2, 12)
    while age <= span_days:
        if all(abs(age - plan.age) > 6 for plan in planned):
            ages[age] = rng.choice(GENERIC_RELEASE_NOTES)
        age += rng.randint(14, 28)
    major, minor = first_version, 0
    schedule = []
    for age in sorted(ages, reverse=True):
        schedule.append((f"v{major}.{minor}", today - dt.timedelta(days=age), ages[age]))
        if rng.random() < 0.06:
            major, minor = major + 1, 0
        else:
            minor += 1
    return schedule


# ---------------------------------------------------------------- writing


@dataclass(frozen=True)
class DemoSummary:
    """What a seed builder wrote (the demo, or a scaled workspace)."""

    train: str
    teams: int
    pis: tuple[str, ...]
    current_pi: str
    metrics: int
    readings: int
    releases: int
    outcomes: int
    targets: int
    hypotheses: int
    checkins: int


@dataclass
class SeedCounts:
    """Records written so far, for the summary."""

    outcomes: int = 0
    targets: int = 0
    hypotheses: int = 0
    checkins: int = 0


@dataclass
class TeamRecords:
    """A written team with its metrics and releases, for the outcomes that follow."""

    spec: TeamSpec
    team: Team
    metrics: dict[str, Metric] = field(default_factory=dict)
    metric_specs: dict[str, MetricSpec] = field(default_factory=dict)
    releases: list[Release] = field(default_factory=list)
    linked: set[str] = field(default_factory=set)  # releases a hypothesis names

    def owner(self, index: int) -> str:
        return self.spec.people[index % len(self.spec.people)]


def require_empty(session: Session) -> None:
    """Seeds load only into an empty workspace, so a second `demo` never duplicates."""
    if session.scalar(select(func.count()).select_from(Team)):
        raise ValidationError(
            Problem(
                "workspace",
                "the database already has teams; the demo (or a scaled workspace) loads "
                "only into an empty database: point OUTCOMES_DATABASE_URL at a new one",
            )
        )


def add_team(session: Session, spec: TeamSpec, *, train: Train, name: str, key: str) -> TeamRecords:
    team = Team(name=name, key=key, train=train, active=True)
    session.add(team)
    return TeamRecords(spec=spec, team=team)


def add_metrics(
    session: Session, records: TeamRecords, specs: Sequence[tuple[str, MetricSpec]]
) -> None:
    """(name, spec) pairs: scaled workspaces give repeated specs regional names."""
    for name, spec in specs:
        metric = Metric(
            team=records.team,
            name=name,
            unit=spec.unit,
            description=spec.description,
            source=spec.source,
            update_interval_days=spec.interval,
            decimals=spec.decimals,
            leading=spec.leading,
        )
        session.add(metric)
        records.metrics[name] = metric
        records.metric_specs[name] = spec


def add_releases(
    session: Session, records: TeamRecords, schedule: Sequence[tuple[str, dt.date, str]]
) -> None:
    slug = records.team.key.lower()
    for name, day, notes in schedule:
        release = Release(
            team=records.team,
            name=name,
            date=day,
            notes=notes,
            link=f"https://git.example.com/payments/{slug}/releases/tag/{name}",
        )
        session.add(release)
        records.releases.append(release)


def release_on(records: TeamRecords, day: dt.date) -> Release:
    release = next(r for r in records.releases if r.date == day)
    records.linked.add(release.name)
    return release


def release_within(records: TeamRecords, pi: PiPlan, rng: random.Random) -> Release | None:
    """A release no hypothesis names yet, shipped in the first two thirds of a PI (so its
    measurement window fits the PI)."""
    last = pi.start + (pi.end - pi.start) * 2 / 3
    inside = [
        r
        for r in records.releases
        if pi.start + dt.timedelta(days=14) <= r.date <= last and r.name not in records.linked
    ]
    if not inside:
        return None
    release = rng.choice(inside)
    records.linked.add(release.name)
    return release


ValueOn = Callable[[str, MetricSpec, dt.date], float]


@dataclass(frozen=True)
class OutcomeContext:
    """What writing the outcomes of one PI needs: the teams by key, the as-of `today`,
    and `value_on(team key, metric, day)`, the metric's value a baseline is read from."""

    pi: PI
    plan: PiPlan
    teams: dict[str, TeamRecords]
    today: dt.date
    value_on: ValueOn
    rng: random.Random
    counts: SeedCounts

    def owner_of(self, team: str | None, home: TeamRecords | None) -> TeamRecords | None:
        return self.teams.get(team) if team else home


def usable(outcome: OutcomePlan, home: TeamRecords | None, ctx: OutcomeContext) -> OutcomePlan:
    """The plan without the targets and hypotheses whose metric this workspace lacks (a
    small scaled workspace has fewer teams and metrics than the vocabulary)."""

    def has(metric: str, team: str | None) -> bool:
        owner = ctx.owner_of(team, home)
        return owner is not None and metric in owner.metrics

    return replace(
        outcome,
        targets=tuple(t for t in outcome.targets if has(t.metric, t.team)),
        hypotheses=tuple(h for h in outcome.hypotheses if has(h.metric, None)),
    )


def add_outcome(
    session: Session,
    ctx: OutcomeContext,
    *,
    home: TeamRecords | None,
    key: str,
    position: int,
    outcome: OutcomePlan,
    owner: str,
    parent: Outcome | None,
) -> Outcome:
    """One outcome with its targets and hypotheses; status, business value and releases
    follow the PI's role (past: closed and scored; current: active; next: draft)."""
    plan = ctx.plan
    record = Outcome(
        pi=ctx.pi,
        team=home.team if home else None,
        key=key,
        title=outcome.title,
        why=outcome.why,
        owner=owner,
        committed=outcome.committed,
        planned_bv=outcome.planned_bv,
        actual_bv=outcome.actual_bv if plan.role == PAST else None,
        parent_id=parent.id if parent is not None else None,
        status={PAST: "closed", CURRENT: "active", NEXT: "draft"}[plan.role],
        position=position,
    )
    for index, target in enumerate(outcome.targets):
        metric_owner = ctx.owner_of(target.team, home)
        assert metric_owner is not None
        spec = metric_owner.metric_specs[target.metric]
        baseline, baseline_date, value = target_values(
            target, spec, plan, metric_owner.team.key, ctx.value_on, ctx.today
        )
        record.targets.append(
            Target(
                metric=metric_owner.metrics[target.metric],
                baseline=baseline,
                baseline_date=baseline_date,
                target=value,
                target_date=missed_by(plan) if target.health == "missed" else None,
                kind="maintain" if target.band else spec.better,
                band_low=target.band[0] if target.band else None,
                band_high=target.band[1] if target.band else None,
                position=index,
            )
        )
        ctx.counts.targets += 1
    for index, hypothesis in enumerate(outcome.hypotheses):
        assert home is not None
        spec = home.metric_specs[hypothesis.metric]
        shipped = shipped_release(hypothesis, home, ctx)
        record.hypotheses.append(
            Hypothesis(
                metric=home.metrics[hypothesis.metric],
                if_text=hypothesis.if_text,
                expect_text=hypothesis.expect_text,
                because_text=hypothesis.because_text,
                direction=spec.better,
                min_effect=hypothesis.min_effect,
                min_effect_unit=hypothesis.min_effect_unit,
                release=shipped,
                learning=hypothesis.learning if shipped is not None else "",
                decision=hypothesis.decision if shipped is not None else None,
                position=index,
            )
        )
        ctx.counts.hypotheses += 1
    session.add(record)
    ctx.counts.outcomes += 1
    return record


def shipped_release(
    hypothesis: HypothesisPlan, team: TeamRecords, ctx: OutcomeContext
) -> Release | None:
    """The planned release when it shipped inside this PI; in a past PI without one (a
    scaled workspace repeats plans), another of the team's releases in that PI; in the
    current PI nothing else (not shipped yet); in the next PI none."""
    plan = ctx.plan
    if plan.role == NEXT:
        return None
    if hypothesis.release_age is not None:
        day = ctx.today - dt.timedelta(days=hypothesis.release_age)
        if plan.start <= day <= plan.end:
            return release_on(team, day)
    if plan.role == PAST:
        return release_within(team, plan, ctx.rng)
    return None


def add_pi_outcomes(
    session: Session, ctx: OutcomeContext, *, train: TrainSpec, teams: Sequence[TeamRecords]
) -> None:
    """The PI's train-level outcome, each team's outcomes (some contributing to it) and
    their check-ins."""
    train_plan = usable(getattr(train, ctx.plan.role), None, ctx)
    train_outcome = add_outcome(
        session,
        ctx,
        home=None,
        key=f"{train.key}-1",
        position=0,
        outcome=train_plan,
        owner=train.owner,
        parent=None,
    )
    session.flush()
    written = [(train_outcome, train_plan)]
    for records in teams:
        for position, planned in enumerate(getattr(records.spec, ctx.plan.role)):
            outcome = usable(planned, records, ctx)
            record = add_outcome(
                session,
                ctx,
                home=records,
                key=f"{records.team.key}-{position + 1}",
                position=position,
                outcome=outcome,
                owner=records.owner(outcome.owner),
                parent=train_outcome if outcome.parent else None,
            )
            written.append((record, outcome))
    session.flush()
    for record, outcome in written:
        add_checkins(session, ctx.rng, record, outcome, ctx.plan, ctx.counts)


def missed_by(plan: PiPlan) -> dt.date:
    """The `missed` target's date: the Friday ten days before the current week."""
    monday = plan.start + dt.timedelta(weeks=7)
    return monday - dt.timedelta(days=10)


def checkin_confidences(rng: random.Random, outcome: OutcomePlan, plan: PiPlan) -> tuple[int, ...]:
    """The plan's check-in confidences; a past outcome without any gets five that drift
    toward its business value score."""
    if outcome.confidence or plan.role != PAST:
        return outcome.confidence
    planned = outcome.planned_bv or 5
    final = max(1, min(10, round(10 * (outcome.actual_bv or 0) / planned) - 1))
    values, value = [], 7
    for step in range(5):
        value = final if step == 4 else max(1, min(10, value + rng.choice((-1, 0, 0, 1))))
        values.append(value)
    return tuple(values)


def add_checkins(
    session: Session,
    rng: random.Random,
    outcome: Outcome,
    plan: OutcomePlan,
    pi: PiPlan,
    counts: SeedCounts,
) -> None:
    """Fortnightly check-ins from the PI's first Thursday, all before today."""
    confidences = checkin_confidences(rng, plan, pi)
    for step, confidence in enumerate(confidences):
        band = "high" if confidence >= 7 else "mid" if confidence >= 4 else "low"
        comment = rng.choice(CHECKIN_COMMENTS[band])
        if step == len(confidences) - 1 and plan.last_comment:
            comment = plan.last_comment
        session.add(
            CheckIn(
                outcome_id=outcome.id,
                date=pi.start + dt.timedelta(days=3 + 14 * step),
                confidence=confidence,
                comment=comment,
                by=outcome.owner,
            )
        )
        counts.checkins += 1


def reading_row(
    metric_id: int, day: dt.date, value: float, *, recent: bool, by: str, note: str = ""
) -> dict[str, object]:
    """A reading: recent ones typed in the form by a team member, older ones imported."""
    return {
        "metric_id": metric_id,
        "date": day,
        "value": value,
        "note": note,
        "source": "form" if recent else "import",
        "entered_by": by if recent else "",
        "entered_at": dt.datetime.combine(day, dt.time(16, 30)),
    }


# ---------------------------------------------------------------- the demo


def _designs(today: dt.date, current: PiPlan) -> dict[tuple[str, str], Design]:
    """The design of every current-PI target, by (team key, metric name)."""
    designs: dict[tuple[str, str], Design] = {}
    for spec in TEAMS:
        for outcome in spec.current:
            for target in outcome.targets:
                if target.health in ("", "no_data"):
                    continue
                metric = spec.metric(target.metric)
                release = (
                    today - dt.timedelta(days=target.release_age)
                    if target.release_age is not None
                    else None
                )
                designs[(spec.key, target.metric)] = Design(
                    health=target.health,
                    baseline=metric.level,
                    target=target.target,
                    band=target.band,
                    release=release,
                    start=current.start,
                    end=current.end,
                    today=today,
                    missed_by=missed_by(current),
                )
    return designs


def _series(
    spec: TeamSpec,
    metric: MetricSpec,
    dates: Sequence[dt.date],
    design: Design | None,
    current: PiPlan,
    today: dt.date,
) -> list[float | None]:
    """A metric's readings on `dates` (None: no reading that week). Its history reaches
    `level` shortly before the current PI, where designed series take over; a past
    release with a `lift` leaves the metric that much worse before it shipped."""
    rng = metric_rng(spec.key, metric.name)
    anchor = current.start - dt.timedelta(days=DESIGN_LEAD_DAYS)
    history = history_values(rng, metric, Timeline.of(dates, anchor))
    sign = 1.0 if metric.better == INC else -1.0
    for outcome in spec.past:
        for hypothesis in outcome.hypotheses:
            if hypothesis.metric != metric.name or hypothesis.release_age is None:
                continue
            shipped = today - dt.timedelta(days=hypothesis.release_age)
            history = [
                _bounded(metric, v - sign * hypothesis.lift) if day < shipped else v
                for v, day in zip(history, dates, strict=True)
            ]
    values: list[float | None] = [round_to(v, metric.decimals) for v in history]
    if design is not None:
        shaped = [i for i, day in enumerate(dates) if day >= anchor]
        designed = designed_values(rng, metric, [dates[i] for i in shaped], design)
        for i, value in zip(shaped, designed, strict=True):
            values[i] = round_to(value, metric.decimals)
    # Gaps: a missed week now and then, and one longer outage, only in older history.
    old = len(dates) - 14
    for i in range(old):
        if rng.random() < 0.03:
            values[i] = None
    if rng.random() < 0.35:
        start = rng.randrange(10, old - 4)
        for i in range(start, start + rng.randint(2, 3)):
            values[i] = None
    if design is not None and design.health == "stale":
        silence = dates[-1] + dt.timedelta(days=READING_LAG_DAYS - STALE_SILENCE_DAYS)
        values = [v if day <= silence else None for v, day in zip(values, dates, strict=True)]
    return values


def build_demo(session: Session, *, today: dt.date) -> DemoSummary:
    """Write the demo workspace into an empty, migrated database, with one audit event.

    Deterministic for a given `today`; every date is placed relative to it, so the
    current PI always contains today and shows every health and verdict state."""
    require_empty(session)
    rng = random.Random(SEED)
    calendar = pi_calendar(today)
    current = next(p for p in calendar if p.role == CURRENT)
    dates = weekly_dates(today)
    designs = _designs(today, current)

    train = Train(name=TRAIN.name)
    pis = {
        plan.role: PI(name=plan.name, train=train, start_date=plan.start, end_date=plan.end)
        for plan in calendar
    }
    session.add_all([train, *pis.values()])

    teams: dict[str, TeamRecords] = {}
    for spec in TEAMS:
        records = add_team(session, spec, train=train, name=spec.name, key=spec.key)
        add_metrics(session, records, [(m.name, m) for m in spec.metrics])
        add_releases(
            session,
            records,
            release_schedule(rng, today, first_version=spec.first_version, planned=spec.releases),
        )
        teams[spec.key] = records
    session.flush()

    series: dict[tuple[str, str], list[float | None]] = {}
    rows: list[dict[str, object]] = []
    recent = dates[-8]
    for spec in TEAMS:
        records = teams[spec.key]
        for metric in spec.metrics:
            design = designs.get((spec.key, metric.name))
            values = _series(spec, metric, dates, design, current, today)
            series[(spec.key, metric.name)] = values
            metric_id = records.metrics[metric.name].id
            for step, (day, value) in enumerate(zip(dates, values, strict=True)):
                if value is not None:
                    by = records.owner(step)
                    rows.append(reading_row(metric_id, day, value, recent=day >= recent, by=by))
    _annotate_stale(rows, teams, series, dates)
    session.execute(insert(Reading), rows)

    def value_on(team_key: str, metric: MetricSpec, day: dt.date) -> float:
        """The first reading on or after `day` (a baseline is read at the PI start)."""
        values = series[(team_key, metric.name)]
        for when, value in zip(dates, values, strict=True):
            if when >= day and value is not None:
                return value
        return round_to(metric.level, metric.decimals)

    counts = SeedCounts()
    for plan in calendar:
        ctx = OutcomeContext(
            pi=pis[plan.role],
            plan=plan,
            teams=teams,
            today=today,
            value_on=value_on,
            rng=rng,
            counts=counts,
        )
        add_pi_outcomes(session, ctx, train=TRAIN, teams=list(teams.values()))
    add_iterations_and_goals(session, calendar=calendar, pis=pis, teams=teams, today=today)

    record_audit(
        session,
        actor=Actor.system("demo"),
        action="import",
        entity="workspace",
        entity_id=None,
        summary="demo workspace",
    )
    session.flush()
    return DemoSummary(
        train=TRAIN.name,
        teams=len(TEAMS),
        pis=tuple(p.name for p in calendar),
        current_pi=current.name,
        metrics=sum(len(s.metrics) for s in TEAMS),
        readings=len(rows),
        releases=sum(len(t.releases) for t in teams.values()),
        outcomes=counts.outcomes,
        targets=counts.targets,
        hypotheses=counts.hypotheses,
        checkins=counts.checkins,
    )


def _annotate_stale(
    rows: list[dict[str, object]],
    teams: dict[str, TeamRecords],
    series: dict[tuple[str, str], list[float | None]],
    dates: Sequence[dt.date],
) -> None:
    """The stale metric's last reading says why the readings stopped."""
    for spec in TEAMS:
        for outcome in spec.current:
            for target in outcome.targets:
                if target.health != "stale":
                    continue
                metric_id = teams[spec.key].metrics[target.metric].id
                last = max(
                    day
                    for day, v in zip(dates, series[(spec.key, target.metric)], strict=True)
                    if v is not None
                )
                for row in rows:
                    if row["metric_id"] == metric_id and row["date"] == last:
                        row["note"] = "last export before the case tool SDK upgrade"


def target_values(
    target: TargetPlan,
    spec: MetricSpec,
    plan: PiPlan,
    team_key: str,
    value_on: ValueOn,
    today: dt.date,
) -> tuple[float | None, dt.date | None, float | None]:
    """(baseline, baseline date, target) of a target: current-PI targets start from the
    designed level, past ones from the metric's value at the PI start, next-PI drafts
    from today's value (and some lack a baseline date or value)."""
    if target.band is not None:
        return None, plan.start if plan.role != NEXT else None, None
    if plan.role == CURRENT:
        baseline = round_to(spec.level, spec.decimals)
        if target.health == "no_data":
            # Measured from a launch still ahead: no reading since the baseline yet.
            monday = today - dt.timedelta(days=today.weekday())
            return baseline, monday + dt.timedelta(weeks=1), target.target
        return baseline, plan.start, target.target
    if plan.role == PAST:
        baseline = value_on(team_key, spec, plan.start)
        return baseline, plan.start, _changed(baseline, target, spec)
    # Next PI: drafts start from today's value; some are not yet dated or measured.
    baseline = value_on(team_key, spec, today - dt.timedelta(days=READING_LAG_DAYS))
    goal = _changed(baseline, target, spec)
    if not target.baseline_known:
        return None, None, goal
    return baseline, plan.start if target.dated else None, goal


def _changed(baseline: float, target: TargetPlan, spec: MetricSpec) -> float:
    """The target value: as planned, or the baseline moved by `change` and rounded the
    way people write targets (two significant digits of the change: 2320, not 2323)."""
    if target.target is not None:
        return target.target
    change = target.change or (0.05 if spec.better == INC else -0.05)
    smallest = 10.0**-spec.decimals
    delta = baseline * change
    step = max(smallest, 10.0 ** (math.floor(math.log10(abs(delta) or smallest)) - 1))
    value = round_to(round((baseline + delta) / step) * step, spec.decimals)
    if value == baseline:
        value = round_to(baseline + math.copysign(smallest, delta), spec.decimals)
    return value


def load_demo(engine: Engine, *, today: dt.date | None = None) -> DemoSummary:
    """Load the demo into an empty database in one transaction (`manage.py demo`, and the
    app's first run). ValidationError when the database already has teams."""
    with write_session(engine) as session:
        return build_demo(session, today=today or dt.date.today())


# ---------------------------------------------------------------- iterations and goals

# The current PI's iteration goals, per team: (outcome number, metric or None, goal, met)
# for I1, I2, ... in turn. `met` of an iteration that has not ended is left unknown.
# Settlements has none for the current iteration, so the overview counts 4 of 5; an
# Insights goal reads like a task, so the quality check shows on the Plan page.
ITERATION_GOALS: dict[str, tuple[tuple[int, str | None, str, bool | None], ...]] = {
    "CHK": (
        (1, "Checkout conversion", "Returning buyers pay with a saved card in one step", True),
        (2, "Payment page load time (p95)", "Buyers see the payment page in under 2 s", False),
        (3, "Cart abandonment", "Fewer buyers leave at the address form", True),
        (1, "Checkout conversion", "More first-time buyers finish checkout on mobile", None),
        (2, None, "Payment page errors stop interrupting buyers", None),
    ),
    "WAL": (
        (1, "Top-up success rate", "Fewer top-ups fail at the bank's 3-D Secure step", True),
        (2, "Time to add a card", "Adding a card takes under 40 s for most users", True),
        (1, "Top-up success rate", "Top-ups from the two biggest banks succeed first time", False),
        (2, "Time to add a card", "Users add a card by scanning it instead of typing", None),
        (3, None, "Card checks stay reliable while the new provider takes traffic", None),
    ),
    "RSK": (
        (1, "False decline rate", "Fewer good repeat customers are declined", False),
        (2, "Manual review time", "Reviewers close simple cases in under 10 minutes", True),
        (1, "False decline rate", "Good customers with new devices get through", True),
        (3, "Fraud losses", "Card-testing attacks stop costing us money", None),
        (2, "Review queue size", "The review queue is empty by Friday noon", None),
    ),
    "INS": (
        (1, "Time to first insight", "Merchants find their top insight in under a minute", True),
        (2, None, "Build the CSV step of the export wizard", False),
        (3, "Merchant satisfaction", "Merchants rate the new dashboard above 7.5", True),
        (1, "Dashboard load time (p95)", "Merchants see their dashboard in under 3 s", None),
        (3, None, "Merchants recommend the dashboard to a colleague", None),
    ),
    "STL": (
        (1, "Payouts on time", "Merchants get weekend payouts on Monday morning", True),
        (2, "Reconciliation time", "Finance reconciles a day in under 20 hours", False),
    ),
}


def add_iterations_and_goals(
    session: Session,
    *,
    calendar: Sequence[PiPlan],
    pis: dict[str, PI],
    teams: dict[str, TeamRecords],
    today: dt.date,
) -> None:
    """Every PI's iterations (made from its dates, as for a new PI), and the current
    PI's goals up to the iteration that contains `today` (ITERATION_GOALS)."""
    current: list[Iteration] = []
    for plan in calendar:
        iterations = [
            Iteration(pi=pis[plan.role], name=span.name, start_date=span.start, end_date=span.end)
            for span in plan_iterations(plan.start, plan.end)
        ]
        session.add_all(iterations)
        if plan.role == CURRENT:
            current = iterations
    session.flush()
    pi = pis[CURRENT]
    outcomes = {
        (o.team_id, o.key): o
        for o in session.scalars(select(Outcome).where(Outcome.pi_id == pi.id))
    }
    started = [i for i in current if i.start_date <= today]
    for key, goals in ITERATION_GOALS.items():
        records = teams.get(key)
        if records is None:
            continue
        for iteration, (number, metric, text, met) in zip(started, goals, strict=False):
            outcome = outcomes.get((records.team.id, f"{key}-{number}"))
            if outcome is None:
                continue
            session.add(
                IterationGoal(
                    iteration_id=iteration.id,
                    team_id=records.team.id,
                    goal=text,
                    outcome_id=outcome.id,
                    metric_id=records.metrics[metric].id if metric in records.metrics else None,
                    met=met if iteration.end_date < today else None,
                )
            )
    session.flush()
